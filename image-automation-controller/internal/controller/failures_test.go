package controller

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	aclapi "github.com/fluxcd/pkg/apis/acl"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	imagev1 "gotk.dev/image-automation-controller/api/v1"
	"gotk.dev/internal/testing/gitserver"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestAutomationNonFastForward: someone pushes to main between the automation's clone and its
// push. Their commit is kept: the automation's push is refused, it clones again and pushes
// its update on top. The race is made deterministic by a proxy in front of the Git server
// that writes the other commit just before it forwards the automation's push.
func TestAutomationNonFastForward(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	s := gitserver.New(t, gitserver.Options{})
	seed(t, s.Repos, "fleet", ns)
	target, _ := url.Parse(s.URL())
	var theirs atomic.Value
	var pushes atomic.Int32
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-receive-pack") && pushes.Add(1) == 1 {
			theirs.Store(s.Commit("fleet").Branch("main").File("README.md", "# someone else's change\n").Message("concurrent").MustDo(t))
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	newGitRepository(t, ns, "fleet", proxy.URL+"/fleet.git", "")
	setPolicy(t, ns, "podinfo", podinfoImage, "6.5.0", nil)

	a := waitFor(t, newAutomation(t, ns, "fleet", "fleet"), time.Minute, pushed(""))
	bare := s.Path("fleet")
	if pushes.Load() < 2 {
		t.Fatalf("%d pushes: the race did not happen", pushes.Load())
	}
	if parent := gitOut(t, bare, "rev-parse", a.Status.LastPushCommit+"^"); parent != theirs.Load() {
		t.Errorf("pushed commit's parent = %s, want the concurrent commit %s", parent, theirs.Load())
	}
	// The refused push was retried within the run (a fresh clone on top), not reported.
	for _, ev := range suiteEnv.events.InNamespace(ns) {
		if ev.Reason == imagev1.GitOperationFailedReason {
			t.Errorf("the race surfaced as a failure: %s", ev.Message)
		}
	}
	if got := gitOut(t, bare, "show", "main:README.md"); got != "# someone else's change" {
		t.Errorf("the concurrent change was lost: %q", got)
	}
	if got := gitOut(t, bare, "show", "main:apps/podinfo.yaml"); !strings.Contains(got, "podinfo:6.5.0") {
		t.Errorf("the update is missing: %s", got)
	}
}

// TestAutomationPolicySelectorAndProxy: only the selected policies are applied, and a
// GitRepository's proxy carries the automation's Git traffic too.
func TestAutomationPolicySelectorAndProxy(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	s := gitserver.New(t, gitserver.Options{})
	seed(t, s.Repos, "fleet", ns)
	s.Commit("fleet").Branch("main").File("apps/other.yaml",
		"image: ghcr.io/org/other:1.0.0 # {\"$imagepolicy\": \""+ns+":other\"}\n").MustDo(t)
	p := gitserver.NewProxy(t, gitserver.ProxyOptions{Username: "p", Password: "proxy-s3cret"})
	newSecret(t, ns, "proxy", map[string][]byte{"address": []byte(p.URL()), "username": []byte("p"), "password": []byte("proxy-s3cret")})
	newGitRepository(t, ns, "fleet", s.RepoURL("fleet"), "", func(g *sourcev1.GitRepository) {
		g.Spec.ProxySecretRef = &meta.LocalObjectReference{Name: "proxy"}
	})
	setPolicy(t, ns, "podinfo", podinfoImage, "6.5.0", map[string]string{"app": "podinfo"})
	setPolicy(t, ns, "other", "ghcr.io/org/other", "2.0.0", map[string]string{"app": "other"})

	a := waitFor(t, newAutomation(t, ns, "fleet", "fleet", func(a *imagev1.ImageUpdateAutomation) {
		a.Spec.PolicySelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "podinfo"}}
	}), time.Minute, pushed(""))
	bare := s.Path("fleet")
	if got := gitOut(t, bare, "show", "main:apps/other.yaml"); !strings.Contains(got, "other:1.0.0") {
		t.Errorf("an unselected policy was applied: %s", got)
	}
	if got := gitOut(t, bare, "show", "main:apps/podinfo.yaml"); !strings.Contains(got, "podinfo:6.5.0") {
		t.Errorf("the selected policy was not applied: %s", got)
	}
	if _, ok := a.Status.ObservedPolicies["other"]; ok || len(a.Status.ObservedPolicies) != 1 {
		t.Errorf("observedPolicies = %v", a.Status.ObservedPolicies)
	}
	if p.Served() == 0 {
		t.Error("the automation did not go through the GitRepository's proxy")
	}
}

func TestAutomationFailures(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	s := gitserver.New(t, gitserver.Options{Username: "flux", Password: "right-pass"})
	seed(t, s.Repos, "fleet", ns)
	newSecret(t, ns, "wrong", map[string][]byte{"username": []byte("flux"), "password": []byte("wrong-s3cret-pass")})
	newGitRepository(t, ns, "wrong", s.RepoURL("fleet"), "wrong")
	newSecret(t, ns, "right", map[string][]byte{"username": []byte("flux"), "password": []byte("right-pass")})
	newGitRepository(t, ns, "fleet", s.RepoURL("fleet"), "right")
	newSecret(t, ns, "bad-key", map[string][]byte{"git.asc": []byte("not a key")})
	setPolicy(t, ns, "podinfo", podinfoImage, "6.5.0", nil)

	tests := []struct {
		name, source, reason, message string
		stalled                       bool
		opt                           func(*imagev1.ImageUpdateAutomation)
	}{
		{name: "no-git", source: "fleet", reason: imagev1.InvalidSourceConfigReason, message: "needs .spec.git", stalled: true,
			opt: func(a *imagev1.ImageUpdateAutomation) { a.Spec.GitSpec = nil }},
		{name: "missing-source", source: "missing", reason: meta.DependencyNotReadyReason, message: "referenced GitRepository '" + ns + "/missing' not found"},
		{name: "wrong-password", source: "wrong", reason: imagev1.GitOperationFailedReason, message: "unable to clone"},
		{name: "removed-template-field", source: "fleet", reason: imagev1.RemovedTemplateFieldReason, message: "use .Changed", stalled: true,
			opt: func(a *imagev1.ImageUpdateAutomation) {
				a.Spec.GitSpec.Commit.MessageTemplate = "{{ range .Updated.Images }}{{ . }}{{ end }}"
			}},
		{name: "signing-key", source: "fleet", reason: imagev1.SourceManagerFailedReason, message: "secret '" + ns + "/bad-key'", stalled: true,
			opt: func(a *imagev1.ImageUpdateAutomation) {
				a.Spec.GitSpec.Commit.SigningKey = &imagev1.SigningKey{SecretRef: meta.LocalObjectReference{Name: "bad-key"}}
			}},
		{name: "update-path", source: "fleet", reason: imagev1.InvalidSourceConfigReason, message: ".spec.update.path", stalled: true,
			opt: func(a *imagev1.ImageUpdateAutomation) { a.Spec.Update.Path = "./nowhere" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []func(*imagev1.ImageUpdateAutomation)
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			a := waitFor(t, newAutomation(t, ns, tt.name, tt.source, opts...), time.Minute, func(a *imagev1.ImageUpdateAutomation) error {
				return readyIs(metav1.ConditionFalse, tt.reason, "")(a)
			})
			msg := conditionMessage(a, meta.ReadyCondition)
			if !strings.Contains(msg, tt.message) || strings.Contains(msg, "wrong-s3cret-pass") {
				t.Errorf("Ready message = %q, want it to contain %q and no password", msg, tt.message)
			}
			if stalled := conditionMessage(a, meta.StalledCondition) != ""; stalled != tt.stalled {
				t.Errorf("stalled = %v, want %v", stalled, tt.stalled)
			}
		})
	}
}

// TestAutomationNoCrossNamespaceRefs drives a reconciler built with --no-cross-namespace-refs
// directly: a GitRepository in another namespace is refused and the automation stalls.
func TestAutomationNoCrossNamespaceRefs(t *testing.T) {
	t.Parallel()
	ns, other := newNamespace(t), newNamespace(t)
	newGitRepository(t, other, "fleet", "https://git.example.com/fleet.git", "")
	a := newAutomation(t, ns, "cross", "fleet", func(a *imagev1.ImageUpdateAutomation) {
		a.Labels = map[string]string{directLabel: "true"}
		a.Spec.SourceRef.Namespace = other
	})
	r, err := NewImageUpdateAutomationReconciler(suiteEnv.rt, Config{Options: Options{NoCrossNamespaceRefs: true}, Client: k8s()})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the first reconcile adds the finalizer
		if _, err := r.Reconcile(testCtx(t), ctrl.Request{NamespacedName: objKey(ns, "cross")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := k8s().Get(testCtx(t), objKey(ns, "cross"), a); err != nil {
		t.Fatal(err)
	}
	if err := readyIs(metav1.ConditionFalse, aclapi.AccessDeniedReason, "can't access 'GitRepository/"+other+"/fleet'")(a); err != nil {
		t.Fatal(err)
	}
	if conditionMessage(a, meta.StalledCondition) == "" {
		t.Error("a forbidden cross-namespace reference does not stall")
	}
}

// conditionMessage is the message of condition typ ("" when absent).
func conditionMessage(a *imagev1.ImageUpdateAutomation, typ string) string {
	for _, c := range a.Status.Conditions {
		if c.Type == typ {
			return c.Message
		}
	}
	return ""
}
