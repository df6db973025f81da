package controller

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
)

// k8s is the tests' own client (admin, no cache).
func k8s() client.Client { return suiteEnv.env.Client }

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func randSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newNamespace creates a namespace for one test, with labels.
func newNamespace(t testing.TB, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "img-" + randSuffix(), Labels: labels}}
	if err := k8s().Create(testCtx(t), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// pushTags writes one random image to host/repo and tags it with every tag; it returns the
// image's digest.
func pushTags(t testing.TB, host, repo string, auth authn.Authenticator, tags ...string) string {
	t.Helper()
	if auth == nil {
		auth = authn.Anonymous
	}
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	pusher, err := remote.NewPusher(remote.WithAuth(auth))
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		ref, err := name.NewTag(host + "/" + repo + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		if err := pusher.Push(testCtx(t), ref, img); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// dockerConfigSecret is a kubernetes.io/dockerconfigjson Secret granting user:pass on host.
func dockerConfigSecret(t testing.TB, ns, name, host, user, pass string) {
	t.Helper()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, host, auth)},
	}
	if err := k8s().Create(testCtx(t), s); err != nil {
		t.Fatal(err)
	}
}

// newRepository creates an ImageRepository of image with a long interval, so that only
// watches, retries and requests drive it unless a test shortens it.
func newRepository(t testing.TB, ns, name, image string, opts ...func(*imagev1.ImageRepository)) *imagev1.ImageRepository {
	t.Helper()
	r := &imagev1.ImageRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       imagev1.ImageRepositorySpec{Image: image, Interval: metav1.Duration{Duration: time.Hour}},
	}
	for _, o := range opts {
		o(r)
	}
	if err := k8s().Create(testCtx(t), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// newPolicy creates an ImagePolicy of the ImageRepository repo (namespace/name or name).
func newPolicy(t testing.TB, ns, name string, ref meta.NamespacedObjectReference, choice imagev1.ImagePolicyChoice, opts ...func(*imagev1.ImagePolicy)) *imagev1.ImagePolicy {
	t.Helper()
	p := &imagev1.ImagePolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       imagev1.ImagePolicySpec{ImageRepositoryRef: ref, Policy: choice},
	}
	for _, o := range opts {
		o(p)
	}
	if err := k8s().Create(testCtx(t), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// conditioned is what the wait helpers read.
type conditioned interface {
	client.Object
	GetConditions() []metav1.Condition
	GetObservedGeneration() int64
}

// waitFor polls obj until check passes on a status the controller wrote for its current
// generation, and fails the test with the last state otherwise.
func waitFor[T conditioned](t testing.TB, obj T, timeout time.Duration, check func(T) error) T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := k8s().Get(testCtx(t), client.ObjectKeyFromObject(obj), obj)
		if err == nil {
			err = check(obj)
		}
		if err == nil {
			return obj
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s/%s after %s: %v\nconditions: %+v", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetNamespace(), obj.GetName(), timeout, err, obj.GetConditions())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ready checks Ready=True for the current generation.
func ready[T conditioned](obj T) error {
	return readyIs[T](metav1.ConditionTrue, "")(obj)
}

// readyIs checks the Ready condition's status and (unless empty) reason.
func readyIs[T conditioned](status metav1.ConditionStatus, reason string) func(T) error {
	return func(obj T) error {
		c := apimeta.FindStatusCondition(obj.GetConditions(), meta.ReadyCondition)
		switch {
		case c == nil:
			return fmt.Errorf("no Ready condition")
		case c.Status != status || (reason != "" && c.Reason != reason):
			return fmt.Errorf("Ready=%s/%s %q, want %s/%s", c.Status, c.Reason, c.Message, status, reason)
		case status == metav1.ConditionTrue && obj.GetObservedGeneration() != obj.GetGeneration():
			return fmt.Errorf("observedGeneration %d, generation %d", obj.GetObservedGeneration(), obj.GetGeneration())
		}
		return nil
	}
}

// requestReconcile sets reconcile.fluxcd.io/requestedAt as flux reconcile does.
func requestReconcile(t testing.TB, obj client.Object) {
	t.Helper()
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[meta.ReconcileRequestAnnotation] = time.Now().Format(time.RFC3339Nano)
	obj.SetAnnotations(a)
	if err := k8s().Patch(testCtx(t), obj, patch); err != nil {
		t.Fatal(err)
	}
}

// conditionOf returns the condition typ of obj (nil when absent).
func conditionOf(obj conditioned, typ string) *metav1.Condition {
	return apimeta.FindStatusCondition(obj.GetConditions(), typ)
}

func errorsAs[T error](err error, target *T) bool { return errors.As(err, target) }
