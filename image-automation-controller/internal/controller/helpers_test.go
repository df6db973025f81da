package controller

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "gotk.dev/image-automation-controller/api/v1"
	reflectorv1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/internal/testing/gitserver"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// deployment is a manifest full of comments and odd quoting around one marked image: after
// an update only the image value may differ.
const deployment = `# The podinfo Deployment.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo   # keep this alignment
  namespace: apps
  labels: {app: podinfo, "tier": 'web'}
spec:
  template:
    spec:
      containers:
        # the main container
        - name: podinfo
          image: "ghcr.io/stefanprodan/podinfo:6.3.0" # {"$imagepolicy": "%s:podinfo"}

          ports: [ {containerPort: 9898} ]   # trailing
# end
`

// k8s is the tests' own client (admin, no cache).
func k8s() client.Client { return suiteEnv.env.Client }

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newNamespace(t testing.TB) string {
	t.Helper()
	return suiteEnv.env.NewNamespace(t, "iua")
}

// seed creates repository name with the podinfo manifest marked for ns's podinfo policy.
func seed(t testing.TB, r *gitserver.Repos, name, ns string) string {
	t.Helper()
	if err := r.Init(name); err != nil {
		t.Fatal(err)
	}
	return r.Commit(name).Branch("main").Files(map[string]string{
		"apps/podinfo.yaml": fmt.Sprintf(deployment, ns),
		"README.md":         "# fleet\n",
	}).Message("initial").MustDo(t)
}

// newSecret creates a Secret.
func newSecret(t testing.TB, ns, name string, data map[string][]byte) {
	t.Helper()
	if err := k8s().Create(testCtx(t), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}); err != nil {
		t.Fatal(err)
	}
}

// newGitRepository creates the GitRepository source-controller would reconcile; here it is
// only read.
func newGitRepository(t testing.TB, ns, name, url, secret string, opts ...func(*sourcev1.GitRepository)) {
	t.Helper()
	g := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: sourcev1.GitRepositorySpec{URL: url, Interval: metav1.Duration{Duration: time.Hour},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"}},
	}
	if secret != "" {
		g.Spec.SecretRef = &meta.LocalObjectReference{Name: secret}
	}
	for _, o := range opts {
		o(g)
	}
	if err := k8s().Create(testCtx(t), g); err != nil {
		t.Fatal(err)
	}
}

// setPolicy creates or updates ImagePolicy name with latestRef image:tag in its status, as
// image-reflector-controller would write it.
func setPolicy(t testing.TB, ns, name, image, tag string, labels map[string]string) {
	t.Helper()
	p := &reflectorv1.ImagePolicy{}
	err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: name}, p)
	if err != nil {
		p = &reflectorv1.ImagePolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
			Spec: reflectorv1.ImagePolicySpec{ImageRepositoryRef: meta.NamespacedObjectReference{Name: name},
				Policy: reflectorv1.ImagePolicyChoice{SemVer: &reflectorv1.SemVerPolicy{Range: ">=0.0.0"}}},
		}
		if err := k8s().Create(testCtx(t), p); err != nil {
			t.Fatal(err)
		}
	}
	p.Status.LatestRef = &reflectorv1.ImageRef{Name: image, Tag: tag}
	if err := k8s().Status().Update(testCtx(t), p); err != nil {
		t.Fatal(err)
	}
}

// newAutomation creates an ImageUpdateAutomation of GitRepository source, committing as
// fluxcdbot, with a long interval so that watches and requests drive it.
func newAutomation(t testing.TB, ns, name, source string, opts ...func(*imagev1.ImageUpdateAutomation)) *imagev1.ImageUpdateAutomation {
	t.Helper()
	a := &imagev1.ImageUpdateAutomation{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: imagev1.ImageUpdateAutomationSpec{
			SourceRef: imagev1.CrossNamespaceSourceReference{Kind: imagev1.GitRepositoryKind, Name: source},
			Interval:  metav1.Duration{Duration: time.Hour},
			GitSpec: &imagev1.GitSpec{Commit: imagev1.CommitSpec{
				Author: imagev1.CommitUser{Name: "fluxcdbot", Email: "fluxcdbot@users.noreply.github.com"}}},
			Update: &imagev1.UpdateStrategy{Strategy: imagev1.UpdateStrategySetters, Path: "./apps"},
		},
	}
	for _, o := range opts {
		o(a)
	}
	if err := k8s().Create(testCtx(t), a); err != nil {
		t.Fatal(err)
	}
	return a
}

// waitFor polls the automation until check passes, and fails with its last state otherwise.
func waitFor(t testing.TB, a *imagev1.ImageUpdateAutomation, timeout time.Duration, check func(*imagev1.ImageUpdateAutomation) error) *imagev1.ImageUpdateAutomation {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := k8s().Get(testCtx(t), client.ObjectKeyFromObject(a), a)
		if err == nil {
			err = check(a)
		}
		if err == nil {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("ImageUpdateAutomation %s/%s after %s: %v\nconditions: %+v", a.Namespace, a.Name, timeout, err, a.Status.Conditions)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readyIs checks the Ready condition's status, reason and (unless empty) message prefix.
func readyIs(status metav1.ConditionStatus, reason, msgPrefix string) func(*imagev1.ImageUpdateAutomation) error {
	return func(a *imagev1.ImageUpdateAutomation) error {
		c := apimeta.FindStatusCondition(a.Status.Conditions, meta.ReadyCondition)
		switch {
		case c == nil:
			return fmt.Errorf("no Ready condition")
		case c.Status != status || c.Reason != reason || !strings.HasPrefix(c.Message, msgPrefix):
			return fmt.Errorf("Ready=%s/%s %q, want %s/%s %q", c.Status, c.Reason, c.Message, status, reason, msgPrefix)
		case status == metav1.ConditionTrue && a.Status.ObservedGeneration != a.Generation:
			return fmt.Errorf("observedGeneration %d, generation %d", a.Status.ObservedGeneration, a.Generation)
		}
		return nil
	}
}

// pushed waits for a push of another commit than last, and Ready.
//
// Ready's message is that of the last run, which need not be the run that pushed: an
// ImagePolicy or GitRepository event the manager handles after the pushing run started (the
// test wrote those objects just before the automation, and under load their watch events
// arrive late) runs the automation again, and that run finds the pushed revision and says
// "no change since last reconciliation". Both messages follow a successful push; a test that
// polled for the first one alone missed it whenever the second run came first.
func pushed(last string) func(*imagev1.ImageUpdateAutomation) error {
	return func(a *imagev1.ImageUpdateAutomation) error {
		if a.Status.LastPushCommit == "" || a.Status.LastPushCommit == last {
			return fmt.Errorf("no new push (last push %q)", a.Status.LastPushCommit)
		}
		return readyAfterRun(a)
	}
}

// readyAfterRun checks that the last run succeeded: it updated the repository (or found
// nothing to update), or found nothing changed since the run before.
func readyAfterRun(a *imagev1.ImageUpdateAutomation) error {
	err := readyIs(metav1.ConditionTrue, meta.SucceededReason, upToDateMessage)(a)
	if err != nil && readyIs(metav1.ConditionTrue, meta.SucceededReason, unchangedMessage)(a) == nil {
		return nil
	}
	return err
}

// requestReconcile sets reconcile.fluxcd.io/requestedAt as flux reconcile does.
func requestReconcile(t testing.TB, obj client.Object) string {
	t.Helper()
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	token := time.Now().Format(time.RFC3339Nano)
	a[meta.ReconcileRequestAnnotation] = token
	obj.SetAnnotations(a)
	if err := k8s().Patch(testCtx(t), obj, patch); err != nil {
		t.Fatal(err)
	}
	return token
}

// gitOut runs the git CLI against a bare repository.
func gitOut(t testing.TB, bare string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"--git-dir", bare}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// openPGPKey returns an armored private key and its armored public key.
func openPGPKey(t testing.TB) (private, public []byte) {
	t.Helper()
	e, err := openpgp.NewEntity("Flux Bot", "", "fluxcdbot@users.noreply.github.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	armored := func(typ string, write func(w *bytes.Buffer) error) []byte {
		var b bytes.Buffer
		w, err := armor.Encode(&b, typ, nil)
		if err != nil {
			t.Fatal(err)
		}
		var raw bytes.Buffer
		if err := write(&raw); err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(raw.Bytes())
		_ = w.Close()
		return b.Bytes()
	}
	public = armored(openpgp.PublicKeyType, func(w *bytes.Buffer) error { return e.Serialize(w) })
	private = armored(openpgp.PrivateKeyType, func(w *bytes.Buffer) error { return e.SerializePrivate(w, nil) })
	return private, public
}

// waitEvent waits for an event about the automation whose message starts with prefix, and
// returns its metadata.
func waitEvent(t testing.TB, ns, name, reason, prefix string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, ev := range suiteEnv.events.InNamespace(ns) {
			if ev.InvolvedObject.Name == name && ev.Reason == reason && strings.HasPrefix(ev.Message, prefix) {
				return ev.Metadata
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event for %s/%s starting %q; got %+v", reason, ns, name, prefix, suiteEnv.events.InNamespace(ns))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func objKey(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }
