package journeys_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"gotk.dev/e2e/framework"
	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// waitFor polls obj (namespace and name from its metadata) until cond holds, leaving the
// last state read in obj. On timeout the test fails with cond's last reason, the object's
// conditions and the tail of the responsible controller's log.
func waitFor(t *testing.T, ctx context.Context, obj client.Object, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	waitIn(t, ctx, suite.env, obj, timeout, what, cond)
}

// waitIn is waitFor in the cluster of env (the production cluster, or the shared one).
func waitIn(t *testing.T, ctx context.Context, env *framework.Env, obj client.Object, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	key := client.ObjectKeyFromObject(obj)
	err := framework.Poll(ctx, timeout, what, func(ctx context.Context) (bool, error, error) {
		if err := env.Client.Get(ctx, key, obj); err != nil {
			return false, err, nil
		}
		if ok, why := cond(); !ok {
			return false, errors.New(why), nil
		}
		return true, nil, nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, diagnoseIn(env, obj))
	}
}

// diagnose renders obj's conditions and the tail of the log of the controller reconciling
// its kind.
func diagnose(obj client.Object) string { return diagnoseIn(suite.env, obj) }

// diagnoseIn is diagnose for an object of the cluster of env.
func diagnoseIn(env *framework.Env, obj client.Object) string {
	var b strings.Builder
	kind := fmt.Sprintf("%T", obj)
	if gvk, err := apiutil.GVKForObject(obj, env.Scheme); err == nil {
		kind = gvk.Kind
	}
	fmt.Fprintf(&b, "%s %s: generation %d\n", kind, client.ObjectKeyFromObject(obj), obj.GetGeneration())
	if m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj); err == nil {
		status, _, _ := unstructured.NestedMap(m, "status")
		delete(status, "inventory") // can be hundreds of lines
		for k, v := range status {
			if k != "conditions" {
				fmt.Fprintf(&b, "  status.%s: %v\n", k, v)
			}
		}
		conds, _, _ := unstructured.NestedSlice(m, "status", "conditions")
		for _, c := range conds {
			fmt.Fprintf(&b, "  condition %v\n", c)
		}
	}
	if p, ok := env.Controllers[framework.ControllerFor(kind)]; ok {
		fmt.Fprintf(&b, "last lines of %s:\n%s", p.Logs, p.LogTail(30))
	}
	return b.String()
}

// readyAnd is a condition for waitFor: obj is Ready at its current generation and passes
// extra (when not nil).
func readyAnd(obj client.Object, extra func() (bool, string)) func() (bool, string) {
	return func() (bool, string) {
		if ok, why := framework.Readiness(obj); !ok {
			return false, why
		}
		if extra == nil {
			return true, ""
		}
		return extra()
	}
}

// waitApplied waits until the Kustomization is Ready at its generation with revision as
// its last applied revision.
func waitApplied(t *testing.T, ctx context.Context, ks *kustomizev1.Kustomization, revision string, timeout time.Duration) {
	t.Helper()
	waitFor(t, ctx, ks, timeout, fmt.Sprintf("Kustomization %s/%s to apply %s", ks.Namespace, ks.Name, revision),
		readyAnd(ks, func() (bool, string) {
			if ks.Status.LastAppliedRevision != revision {
				return false, "lastAppliedRevision " + ks.Status.LastAppliedRevision
			}
			return true, ""
		}))
}

// source is a Flux source with an artifact.
type source interface {
	client.Object
	GetArtifact() *meta.Artifact
}

// waitArtifact waits until the source is Ready at its generation with an artifact of
// revision.
func waitArtifact(t *testing.T, ctx context.Context, src source, revision string, timeout time.Duration) {
	t.Helper()
	waitFor(t, ctx, src, timeout, fmt.Sprintf("%s/%s to have an artifact of %s", src.GetNamespace(), src.GetName(), revision),
		readyAnd(src, func() (bool, string) {
			a := src.GetArtifact()
			if a == nil {
				return false, "no artifact"
			}
			if a.Revision != revision {
				return false, "artifact revision " + a.Revision
			}
			return true, ""
		}))
}

// handled is an object whose controller records the reconcile requests it handled.
type handled interface {
	client.Object
	GetLastHandledReconcileRequest() string
	GetConditions() []metav1.Condition
}

// waitHandled waits until the controller has handled the reconcile request token and the
// object is Ready again.
func waitHandled(t *testing.T, ctx context.Context, obj handled, token string, timeout time.Duration) {
	t.Helper()
	waitFor(t, ctx, obj, timeout, fmt.Sprintf("%s/%s to handle reconcile request %s", obj.GetNamespace(), obj.GetName(), token),
		readyAnd(obj, func() (bool, string) {
			if got := obj.GetLastHandledReconcileRequest(); got != token {
				return false, "lastHandledReconcileAt " + got
			}
			return true, ""
		}))
}

// condition returns the condition of type typ, or nil.
func condition(obj interface{ GetConditions() []metav1.Condition }, typ string) *metav1.Condition {
	for _, c := range obj.GetConditions() {
		if c.Type == typ {
			return &c
		}
	}
	return nil
}

// metricValue scrapes a controller's /metrics and returns the value of the sample whose
// name is name and whose labels include every pair of labels (false when there is none).
func metricValue(ctx context.Context, p *framework.Process, name string, labels map[string]string) (string, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.MetricsAddr+"/metrics", nil)
	if err != nil {
		return "", false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", false, fmt.Errorf("scrape %s metrics: %w", p.Name, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < 0 {
			continue
		}
		set, value := line[len(name)+1:end], strings.TrimSpace(line[end+1:])
		match := true
		for k, v := range labels {
			if !strings.Contains(","+set+",", fmt.Sprintf(",%s=%q,", k, v)) {
				match = false
				break
			}
		}
		if match {
			return value, true, nil
		}
	}
	return "", false, sc.Err()
}
