// Package alerts matches events to Alerts. NewIndex compiles a set of Alerts once (regexes,
// severities, event sources keyed by involved object kind and namespace), so matching an
// event costs a map lookup plus the few sources of its kind and namespace, however many
// Alerts exist. Rebuild the Index when an Alert changes; it is immutable and safe for
// concurrent use.
package alerts

import (
	"context"
	"fmt"
	"regexp"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	corev1 "k8s.io/api/core/v1"

	"gotk.dev/notification-controller/api/v1beta3"
)

// Options are the controller flags that change matching.
type Options struct {
	// NoCrossNamespaceRefs (--no-cross-namespace-refs) ignores event sources in another
	// namespace than their Alert's.
	NoCrossNamespaceRefs bool
}

// LabelsFunc returns the labels of an event's involved object; Match calls it at most once
// per event, and only when a candidate source has matchLabels.
type LabelsFunc func(ctx context.Context, obj corev1.ObjectReference) (map[string]string, error)

// Problem is an Alert (or one of its sources) the Index leaves out, with the reason.
type Problem struct {
	Alert string // namespace/name
	Err   error
}

func (p Problem) Error() string { return fmt.Sprintf("Alert %s: %v", p.Alert, p.Err) }

type sourceKey struct{ kind, namespace string }

// source is one event source of one Alert.
type source struct {
	alert       *compiled
	name        string // exact name or "*"
	matchLabels map[string]string
}

type compiled struct {
	alert       *v1beta3.Alert
	minSeverity int
	include     []*regexp.Regexp
	exclude     []*regexp.Regexp
	order       int
}

// Index is a compiled set of Alerts.
type Index struct {
	sources map[sourceKey][]source
	size    int
}

// severityRank orders event severities; an Alert at `info` takes info and error events, one
// at `error` only errors. Trace events reach no Alert.
func severityRank(s string) int {
	switch s {
	case eventv1.EventSeverityError:
		return 2
	case eventv1.EventSeverityInfo:
		return 1
	default:
		return 0
	}
}

// NewIndex compiles alerts. Suspended Alerts are left out silently; an Alert with an invalid
// inclusion/exclusion regex is left out and reported, and so is a cross-namespace source when
// opts.NoCrossNamespaceRefs is set (the Alert's other sources still count).
func NewIndex(alerts []v1beta3.Alert, opts Options) (*Index, []Problem) {
	ix := &Index{sources: map[sourceKey][]source{}}
	var problems []Problem
	for i := range alerts {
		a := &alerts[i]
		if a.Spec.Suspend {
			continue
		}
		id := a.Namespace + "/" + a.Name
		c := &compiled{alert: a, minSeverity: severityRank(a.GetEventSeverity()), order: i}
		var err error
		if c.include, err = compileAll(a.Spec.InclusionList); err != nil {
			problems = append(problems, Problem{Alert: id, Err: fmt.Errorf("spec.inclusionList: %w", err)})
			continue
		}
		if c.exclude, err = compileAll(a.Spec.ExclusionList); err != nil {
			problems = append(problems, Problem{Alert: id, Err: fmt.Errorf("spec.exclusionList: %w", err)})
			continue
		}
		ix.size++
		for j, s := range a.Spec.EventSources {
			ns := s.Namespace
			if ns == "" {
				ns = a.Namespace
			}
			if opts.NoCrossNamespaceRefs && ns != a.Namespace {
				problems = append(problems, Problem{Alert: id, Err: fmt.Errorf(
					"spec.eventSources[%d]: cross-namespace reference to %s/%s/%s is not allowed (--no-cross-namespace-refs)", j, s.Kind, ns, s.Name)})
				continue
			}
			k := sourceKey{kind: s.Kind, namespace: ns}
			ix.sources[k] = append(ix.sources[k], source{alert: c, name: s.Name, matchLabels: s.MatchLabels})
		}
	}
	return ix, problems
}

func compileAll(exprs []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(exprs))
	for _, e := range exprs {
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, err
		}
		out = append(out, re)
	}
	return out, nil
}

// Len is the number of Alerts in the Index.
func (ix *Index) Len() int { return ix.size }

// Match returns the Alerts an event goes to, in the order they were given to NewIndex, each
// once. labelsOf may be nil when no Alert uses matchLabels; a labels lookup error is returned
// with the Alerts matched without it.
func (ix *Index) Match(ctx context.Context, ev *eventv1.Event, labelsOf LabelsFunc) ([]*v1beta3.Alert, error) {
	obj := ev.InvolvedObject
	cands := ix.sources[sourceKey{kind: obj.Kind, namespace: obj.Namespace}]
	if len(cands) == 0 {
		return nil, nil
	}
	rank := severityRank(ev.Severity)
	var (
		out       []*compiled
		labels    map[string]string
		labelsErr error
		fetched   bool
	)
	for _, s := range cands {
		c := s.alert
		if rank < c.minSeverity || contains(out, c) {
			continue
		}
		if s.name != "*" && s.name != obj.Name {
			continue
		}
		if len(s.matchLabels) > 0 {
			if !fetched {
				fetched = true
				if labelsOf == nil {
					labelsErr = fmt.Errorf("no labels lookup for %s/%s/%s", obj.Kind, obj.Namespace, obj.Name)
				} else {
					labels, labelsErr = labelsOf(ctx, obj)
				}
			}
			if labelsErr != nil || !subset(s.matchLabels, labels) {
				continue
			}
		}
		if !messageSelected(c, ev.Message) {
			continue
		}
		out = append(out, c)
	}
	sortByOrder(out)
	alerts := make([]*v1beta3.Alert, len(out))
	for i, c := range out {
		alerts[i] = c.alert
	}
	return alerts, labelsErr
}

// messageSelected applies the inclusion list (any must match, when set) and the exclusion
// list (none may match); exclusion wins.
func messageSelected(c *compiled, msg string) bool {
	if len(c.include) > 0 {
		in := false
		for _, re := range c.include {
			if re.MatchString(msg) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	for _, re := range c.exclude {
		if re.MatchString(msg) {
			return false
		}
	}
	return true
}

func subset(want, have map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func contains(list []*compiled, c *compiled) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

// sortByOrder is an insertion sort: the matched list is a handful of Alerts.
func sortByOrder(list []*compiled) {
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && list[j].order < list[j-1].order; j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}
