package app

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// watchGet prints a row for each object as it is now and again whenever it changes, until
// --timeout or an interrupt. The header comes once, before the first row.
func (c *Command) watchGet(ctx context.Context, kube *Kube, f *getFlags, k Kind, ns string, args []string, sel *statusSelector) error {
	var opts []client.ListOption
	if ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	if len(args) == 1 {
		opts = append(opts, client.InNamespace(c.Global.Namespace), client.MatchingFields{"metadata.name": args[0]})
	}
	w, err := kube.Client.Watch(ctx, newList(k), opts...)
	if err != nil {
		return kindError(k, err)
	}
	defer w.Stop()
	header := c.header(f, k)
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil // --timeout ends a watch normally
			}
			return ctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("the API server closed the watch of %s objects", k.Kind)
			}
			switch ev.Type {
			case watch.Error:
				return fmt.Errorf("watching %s objects: %w", k.Kind, apierrors.FromObject(ev.Object))
			case watch.Added, watch.Modified:
				u, ok := ev.Object.(*unstructured.Unstructured)
				if !ok || !sel.matches(u) {
					continue
				}
				if err := renderTable(c.Out, header, [][]string{kindRow(k, u, f.allNamespaces, false)}); err != nil {
					return err
				}
				header = nil
			}
		}
	}
}
