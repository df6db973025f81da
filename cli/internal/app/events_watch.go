package app

import (
	"context"
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// watchEvents streams events matching the queries until ctx ends (Ctrl-C). Events already
// recorded come first (a watch without a resource version starts with them), then new ones
// as they are recorded; an update of a repeated event prints again with its new count.
func (c *Command) watchEvents(ctx context.Context, kube *Kube, queries []eventQuery, filter eventFilter, allNamespaces bool) error {
	header := eventHeader(allNamespaces)
	for i, h := range header {
		header[i] = strings.ToUpper(h)
	}
	if err := tabRow(c.Out, header); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	errs := make(chan error, len(queries))
	for _, q := range queries {
		go func() {
			err := c.watchQuery(ctx, kube, q, func(e *corev1.Event) error {
				if !filter.keep(e) {
					return nil
				}
				mu.Lock()
				defer mu.Unlock()
				return tabRow(c.Out, eventRow(e, allNamespaces, c.Clock()))
			})
			if err != nil {
				cancel() // one failed watch ends the command
			}
			errs <- err
		}()
	}
	var first error
	for range queries {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// watchQuery calls print for each added or modified event of q until ctx ends. The API
// server closes watches after a while; the watch is then resumed from the last resource
// version seen, so nothing is missed or printed twice.
func (c *Command) watchQuery(ctx context.Context, kube *Kube, q eventQuery, print func(*corev1.Event) error) error {
	resourceVersion := ""
	for {
		opts := q.listOptions()
		if resourceVersion != "" {
			opts = append(opts, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: resourceVersion}})
		}
		w, err := kube.Client.Watch(ctx, &corev1.EventList{}, opts...)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watching events: %w", err)
		}
		rv, err := drainWatch(ctx, w, print)
		w.Stop()
		if err != nil || ctx.Err() != nil {
			return err
		}
		if rv != "" {
			resourceVersion = rv
		}
	}
}

// drainWatch prints events until the watch ends and returns the last resource version seen.
func drainWatch(ctx context.Context, w watch.Interface, print func(*corev1.Event) error) (string, error) {
	rv := ""
	for {
		select {
		case <-ctx.Done():
			return rv, nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return rv, nil
			}
			switch ev.Type {
			case watch.Error:
				if st, ok := ev.Object.(*metav1.Status); ok {
					return rv, fmt.Errorf("watching events: %s", st.Message)
				}
				return rv, fmt.Errorf("watching events: %v", ev.Object)
			case watch.Added, watch.Modified:
				e, ok := ev.Object.(*corev1.Event)
				if !ok {
					continue
				}
				rv = e.ResourceVersion
				if err := print(e); err != nil {
					return rv, err
				}
			}
		}
	}
}
