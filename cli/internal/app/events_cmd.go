package app

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// eventsOptions are the flags of flux events.
type eventsOptions struct {
	forSelector   string
	watch         bool
	allNamespaces bool
	types         []string
}

func newEventsCommand(c *Command) *cobra.Command {
	o := &eventsOptions{}
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Display Kubernetes events for Flux resources",
		Long:  "The events sub-command shows Kubernetes events from Flux resources.",
		Example: `  # Display events for flux resources in default namespace
  flux events -n default

  # Display events for flux resources in all namespaces
  flux events -A

  # Display events for a Kustomization named podinfo
  flux events --for Kustomization/podinfo

  # Display events for all Kustomizations in default namespace
  flux events --for Kustomization -n default

  # Display warning events for alert resources
  flux events --for Alert/podinfo --types warning`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.runEvents(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "display events from Flux resources across all namespaces")
	cmd.Flags().BoolVarP(&o.watch, "watch", "w", false, "indicate if the events should be streamed")
	cmd.Flags().StringVar(&o.forSelector, "for", "", "get the events for a particular object (Kind/name, or Kind for every object of a kind)")
	cmd.Flags().StringSliceVar(&o.types, "types", nil, "filter events for certain types (valid types are: Normal, Warning)")
	return cmd
}

// eventQuery is one list (or watch) of events: a namespace (empty for all) and an optional
// involved-object kind and name, sent as a field selector so the API server filters.
type eventQuery struct {
	namespace, kind, name string
}

func (q eventQuery) listOptions() []client.ListOption {
	var opts []client.ListOption
	if q.namespace != "" {
		opts = append(opts, client.InNamespace(q.namespace))
	}
	sel := fields.Set{}
	if q.kind != "" {
		sel["involvedObject.kind"] = q.kind
	}
	if q.name != "" {
		sel["involvedObject.name"] = q.name
	}
	if len(sel) > 0 {
		opts = append(opts, client.MatchingFieldsSelector{Selector: fields.SelectorFromSet(sel)})
	}
	return opts
}

// eventFilter decides which listed events are shown.
type eventFilter struct {
	// fluxOnly keeps events of Flux objects only (the default without --for).
	fluxOnly bool
	types    []string
}

func (f eventFilter) keep(e *corev1.Event) bool {
	if len(f.types) > 0 && !slices.ContainsFunc(f.types, func(t string) bool { return strings.EqualFold(t, e.Type) }) {
		return false
	}
	if f.fluxOnly && !isFluxObject(e.InvolvedObject.APIVersion, e.InvolvedObject.Kind) {
		return false
	}
	return true
}

// isFluxObject reports whether apiVersion/kind is one of the Flux kinds (any version of a
// *.toolkit.fluxcd.io group).
func isFluxObject(apiVersion, kind string) bool {
	group, _, _ := strings.Cut(apiVersion, "/")
	if !strings.HasSuffix(group, ".toolkit.fluxcd.io") {
		return false
	}
	_, err := LookupKind("", kind)
	return err == nil
}

func (c *Command) runEvents(ctx context.Context, o *eventsOptions) error {
	for _, t := range o.types {
		if !strings.EqualFold(t, corev1.EventTypeNormal) && !strings.EqualFold(t, corev1.EventTypeWarning) {
			return fmt.Errorf("invalid event type %q: valid types are Normal, Warning", t)
		}
	}
	kube, _, err := c.connect(ctx)
	if err != nil {
		return err
	}
	namespace := c.Global.Namespace
	if o.allNamespaces {
		namespace = ""
	}
	queries := []eventQuery{{namespace: namespace}}
	filter := eventFilter{fluxOnly: true, types: o.types}
	if o.forSelector != "" {
		if queries, err = c.eventQueriesFor(ctx, kube, o.forSelector, namespace); err != nil {
			return err
		}
		filter.fluxOnly = false
	}
	if o.watch {
		return c.watchEvents(ctx, kube, queries, filter, o.allNamespaces)
	}
	lctx, cancel := context.WithTimeout(ctx, c.Global.Timeout)
	defer cancel()
	var events []corev1.Event
	seen := map[string]bool{}
	for _, q := range queries {
		var list corev1.EventList
		if err := kube.Client.List(lctx, &list, q.listOptions()...); err != nil {
			return fmt.Errorf("listing events: %w", err)
		}
		for _, e := range list.Items {
			if filter.keep(&e) && !seen[string(e.UID)] {
				seen[string(e.UID)] = true
				events = append(events, e)
			}
		}
	}
	if len(events) == 0 {
		if o.allNamespaces {
			c.Log().Failuref("No events found.")
		} else {
			c.Log().Failuref("No events found in %s namespace.", namespace)
		}
		return nil
	}
	sort.SliceStable(events, func(i, j int) bool { return eventTime(&events[i]).Before(eventTime(&events[j])) })
	now := c.Clock()
	rows := make([][]string, 0, len(events))
	for i := range events {
		rows = append(rows, eventRow(&events[i], o.allNamespaces, now))
	}
	return writeTabTable(c.Out, eventHeader(o.allNamespaces), rows)
}

// eventQueriesFor turns --for Kind[/name] into the queries for the object's events and, for
// a named object, those of the objects it uses (a Kustomization's source, a HelmRelease's
// chart and its repository, ...).
func (c *Command) eventQueriesFor(ctx context.Context, kube *Kube, selector, namespace string) ([]eventQuery, error) {
	if !strings.Contains(selector, "/") {
		k, err := LookupKind("", selector)
		if err != nil {
			return nil, fmt.Errorf("--for %s: %w", selector, err)
		}
		return []eventQuery{{namespace: namespace, kind: k.Kind}}, nil
	}
	if namespace == "" {
		namespace = c.Global.Namespace // --for Kind/name -A: the object is still in one namespace
	}
	k, ns, name, err := ParseObjectRef(selector, namespace)
	if err != nil {
		return nil, fmt.Errorf("--for %s: %w", selector, err)
	}
	queries := []eventQuery{{namespace: ns, kind: k.Kind, name: name}}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(k.GVK())
	gctx, cancel := context.WithTimeout(ctx, c.Global.Timeout)
	defer cancel()
	if err := kube.Client.Get(gctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return queries, nil // gone, while its events remain: show what there is
		}
		return nil, fmt.Errorf("getting %s %s/%s: %w", k.Kind, ns, name, err)
	}
	for _, ref := range referencedObjects(obj) {
		queries = append(queries, eventQuery{namespace: ref.Namespace, kind: ref.Kind, name: ref.Name})
	}
	return queries, nil
}

func eventHeader(allNamespaces bool) []string {
	h := []string{"Last seen", "Type", "Reason", "Object", "Message"}
	if allNamespaces {
		h = append([]string{"Namespace"}, h...)
	}
	return h
}

func eventRow(e *corev1.Event, allNamespaces bool, now time.Time) []string {
	row := []string{lastSeen(e, now), e.Type, e.Reason, e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name, strings.TrimSpace(e.Message)}
	if allNamespaces {
		row = append([]string{e.Namespace}, row...)
	}
	return row
}

// eventTime is when the event last happened: lastTimestamp for core/v1 events, eventTime
// for events.k8s.io ones, the creation time as the last resort.
func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

// lastSeen formats the age of an event as kubectl and flux do: "45s", "3m", or
// "2m (x4 over 10m)" for a repeated event.
func lastSeen(e *corev1.Event, now time.Time) string {
	last := eventTime(e)
	if last.IsZero() {
		return "<unknown>"
	}
	age := duration.HumanDuration(now.Sub(last))
	if e.Count > 1 && !e.FirstTimestamp.IsZero() {
		return fmt.Sprintf("%s (x%d over %s)", age, e.Count, duration.HumanDuration(now.Sub(e.FirstTimestamp.Time)))
	}
	return age
}
