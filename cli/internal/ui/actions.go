package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/cli/internal/fluxobj"
)

// ActionResult is what an action answers: the reconcile request's token (the page then
// watches status.lastHandledReconcileAt reach it) and what was done.
type ActionResult struct {
	Action      string `json:"action"`
	RequestedAt string `json:"requestedAt,omitempty"`
	Message     string `json:"message"`
}

// objectAction performs reconcile, suspend or resume as the viewer, sending exactly what
// `flux reconcile`, `flux suspend` and `flux resume` send (package fluxobj). The API server
// decides with the viewer's rights: a refusal comes back as 403 with its message.
// POST /api/objects/{kind}/{namespace}/{name}/{action}, body {"withSource": true}.
func (s *Server) objectAction(w http.ResponseWriter, r *http.Request) {
	k, u, _, ok := s.lookup(w, r)
	if !ok {
		return
	}
	var body struct {
		WithSource bool `json:"withSource"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&body); err != nil {
			writeError(w, http.StatusBadRequest, "the body must be JSON: "+err.Error())
			return
		}
	}
	v := viewerOf(r)
	cl, err := s.access.Clients(v)
	if err != nil {
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	target := func(kind fluxobj.Kind, ns, name string) *unstructured.Unstructured {
		t := &unstructured.Unstructured{}
		t.SetGroupVersionKind(kind.GVK())
		t.SetNamespace(ns)
		t.SetName(name)
		return t
	}
	obj := target(k, u.GetNamespace(), u.GetName())
	action := r.PathValue("action")
	res := ActionResult{Action: action}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.ActionTimeout)
	defer cancel()
	switch action {
	case "reconcile":
		if !k.Reconcilable {
			writeError(w, http.StatusBadRequest, k.Kind+" objects are not reconciled on request")
			return
		}
		if fluxobj.IsStaticSource(k, u) {
			writeError(w, http.StatusConflict, fmt.Sprintf("%s %s/%s is of type oci: %s", k.Kind, u.GetNamespace(), u.GetName(), fluxobj.ErrStaticSource))
			return
		}
		if suspended, _, _ := unstructured.NestedBool(u.Object, "spec", "suspend"); suspended {
			writeError(w, http.StatusConflict, fmt.Sprintf("%s %s/%s is suspended: resume it first", k.Kind, u.GetNamespace(), u.GetName()))
			return
		}
		if body.WithSource {
			srcs, err := fluxobj.SourcesOf(u)
			if err != nil {
				writeError(w, http.StatusBadRequest, err.Error())
				return
			}
			for _, src := range srcs {
				if err := s.reconcileSource(ctx, cl.Client, src, target(src.Kind, src.Namespace, src.Name)); err != nil {
					writeError(w, apiError(err), err.Error())
					return
				}
			}
		}
		token, err := fluxobj.RequestReconcile(ctx, cl.Client, obj)
		if err != nil {
			s.refused(w, v, action, obj, err)
			return
		}
		res.RequestedAt = token
		res.Message = fmt.Sprintf("%s %s/%s annotated, waiting for the reconciliation", k.Kind, u.GetNamespace(), u.GetName())
	case "suspend", "resume":
		if !k.Suspendable {
			writeError(w, http.StatusBadRequest, k.Kind+" objects cannot be suspended")
			return
		}
		if err := fluxobj.SetSuspend(ctx, cl.Client, obj, action == "suspend"); err != nil {
			s.refused(w, v, action, obj, err)
			return
		}
		res.Message = fmt.Sprintf("%s %s/%s %sd", k.Kind, u.GetNamespace(), u.GetName(), action)
		if action == "resume" {
			// flux resume asks for a reconcile at once, as the object may be far behind.
			if token, err := fluxobj.RequestReconcile(ctx, cl.Client, obj); err == nil {
				res.RequestedAt = token
			}
		}
	default:
		writeError(w, http.StatusNotFound, "unknown action "+action+": reconcile, suspend or resume")
		return
	}
	s.log.Info("action", "action", action, "object", k.Kind+"/"+u.GetNamespace()+"/"+u.GetName(), "user", v.User)
	writeJSON(w, http.StatusOK, res)
}

// refused answers an API error of an action; a 403 is the viewer's RBAC saying no.
func (s *Server) refused(w http.ResponseWriter, v Viewer, action string, obj *unstructured.Unstructured, err error) {
	code := apiError(err)
	if code == http.StatusForbidden {
		s.log.Info("action refused by RBAC", "action", action, "object", obj.GetKind()+"/"+obj.GetNamespace()+"/"+obj.GetName(), "user", v.User)
	}
	writeError(w, code, err.Error())
}

// reconcileSource requests a reconcile of a source and waits, from the hub's watch, for its
// outcome, as `flux reconcile --with-source` does before the object itself. A static source
// (an OCI HelmRepository) is skipped.
func (s *Server) reconcileSource(ctx context.Context, c client.Client, src fluxobj.Ref, obj *unstructured.Unstructured) error {
	key := objectKey{src.Kind.Kind, src.Namespace, src.Name}
	live, _, ok := s.hub.Get(key)
	if !ok {
		return fmt.Errorf("%s %s/%s not found", src.Kind.Kind, src.Namespace, src.Name)
	}
	if fluxobj.IsStaticSource(src.Kind, live) {
		return nil
	}
	token, err := fluxobj.RequestReconcile(ctx, c, obj)
	if err != nil {
		return err
	}
	check := fluxobj.ReconciledCheck(src.Kind, token)
	for {
		_, changed := s.hub.Changed()
		if live, _, ok := s.hub.Get(key); ok {
			done, err := check(live)
			if err != nil || done {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s/%s was not reconciled in time", src.Kind.Kind, src.Namespace, src.Name)
		case <-changed:
		}
	}
}
