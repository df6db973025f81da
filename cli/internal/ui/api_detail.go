package ui

import (
	"context"
	"net/http"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv2 "gotk.dev/helm-controller/api/v2"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"

	"gotk.dev/cli/internal/fluxdiff"
)

// Event is one Kubernetes event about an object.
type Event struct {
	Type     string `json:"type"`
	Reason   string `json:"reason"`
	Message  string `json:"message"`
	Count    int32  `json:"count"`
	LastSeen string `json:"lastSeen"`
	Source   string `json:"source,omitempty"`
}

// objectEvents answers the object's events, newest first, read with the viewer's rights
// (GET /api/objects/{kind}/{namespace}/{name}/events).
func (s *Server) objectEvents(w http.ResponseWriter, r *http.Request) {
	k, u, _, ok := s.lookup(w, r)
	if !ok {
		return
	}
	cl, err := s.access.Clients(viewerOf(r))
	if err != nil {
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	var list corev1.EventList
	err = cl.Client.List(r.Context(), &list, client.InNamespace(u.GetNamespace()), client.MatchingFields{
		"involvedObject.kind": k.Kind, "involvedObject.name": u.GetName(),
	})
	if err != nil {
		writeError(w, apiError(err), err.Error())
		return
	}
	out := make([]Event, 0, len(list.Items))
	for _, e := range list.Items {
		out = append(out, Event{Type: e.Type, Reason: e.Reason, Message: e.Message, Count: max(e.Count, 1),
			LastSeen: eventTime(&e).UTC().Format(time.RFC3339), Source: e.Source.Component + e.ReportingController})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastSeen > out[j].LastSeen })
	writeJSON(w, http.StatusOK, out)
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// DiffEntry is one object the next reconcile would change, as two YAML documents (before and
// after; one is empty for a creation or deletion) the page shows side by side. Secret values
// are masked.
type DiffEntry struct {
	Action string `json:"action"`
	Object string `json:"object"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// objectDiff answers what the next reconcile would change, computed as `flux diff
// kustomization` and `flux diff helmrelease` compute it (server-side dry-run with the
// viewer's rights). GET /api/objects/{kind}/{namespace}/{name}/diff.
func (s *Server) objectDiff(w http.ResponseWriter, r *http.Request) {
	k, u, _, ok := s.lookup(w, r)
	if !ok {
		return
	}
	cl, err := s.access.Clients(viewerOf(r))
	if err != nil {
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	var changes []fluxdiff.Change
	switch k.Kind {
	case "Kustomization":
		var ks kustomizev1.Kustomization
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &ks); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		changes, err = fluxdiff.KustomizationFromSource(ctx, cl.Client, &ks)
	case "HelmRelease":
		var hr helmv2.HelmRelease
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &hr); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		ver, verr := cl.Discovery.ServerVersion()
		if verr != nil {
			writeError(w, apiError(verr), verr.Error())
			return
		}
		changes, err = fluxdiff.HelmReleaseFromSource(ctx, fluxdiff.Cluster{Client: cl.Client, Discovery: cl.Discovery, KubeVersion: ver.GitVersion}, &hr)
	default:
		writeError(w, http.StatusBadRequest, k.Kind+" has no diff: only Kustomizations and HelmReleases apply objects")
		return
	}
	out := []DiffEntry{}
	for _, ch := range changes {
		e, perr := diffEntry(ch)
		if perr != nil {
			writeError(w, http.StatusInternalServerError, perr.Error())
			return
		}
		out = append(out, e)
	}
	res := map[string]any{"changes": out}
	if err != nil {
		res["error"] = err.Error()
	}
	writeJSON(w, http.StatusOK, res)
}

// diffEntry renders a change as two YAML documents (fluxdiff masked Secret values).
func diffEntry(ch fluxdiff.Change) (DiffEntry, error) {
	e := DiffEntry{Action: string(ch.Action), Object: ch.Object.String()}
	var err error
	if ch.Live != nil {
		if e.Before, err = fluxdiff.YAML(ch.Live); err != nil {
			return e, err
		}
	}
	if ch.Merged != nil {
		if e.After, err = fluxdiff.YAML(ch.Merged); err != nil {
			return e, err
		}
	}
	return e, nil
}
