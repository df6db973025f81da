package controller

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/image-reflector-controller/internal/tagstore"
	"gotk.dev/internal/testing/registry"
)

func TestImageRepositoryScan(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	host := suiteEnv.reg.Host()
	repoPath := "scan/" + ns
	pushTags(t, host, repoPath, nil, "1.0.0", "1.1.0", "latest", "sha256-abc.sig")
	repo := newRepository(t, ns, "app", host+"/"+repoPath)

	repo = waitFor(t, repo, time.Minute, ready)
	st := repo.Status
	if st.CanonicalImageName != host+"/"+repoPath {
		t.Errorf("canonicalImageName = %q", st.CanonicalImageName)
	}
	if st.LastScanResult == nil || st.LastScanResult.TagCount != 3 || !slices.Equal(st.LastScanResult.LatestTags, []string{"latest", "1.1.0", "1.0.0"}) ||
		!strings.HasPrefix(st.LastScanResult.Revision, "sha256:") || st.LastScanResult.ScanTime.IsZero() {
		t.Fatalf("lastScanResult = %+v", st.LastScanResult)
	}
	if !slices.Equal(st.ObservedExclusionList, imagev1.DefaultExclusionList) {
		t.Errorf("observedExclusionList = %v", st.ObservedExclusionList)
	}
	if c := conditionOf(repo, meta.ReadyCondition); c.Reason != meta.SucceededReason || c.Message != "successful scan, found 3 tags" {
		t.Errorf("Ready = %s %q", c.Reason, c.Message)
	}
	tags, err := suiteEnv.store.Tags(storeKey(ns, "app"))
	if err != nil || !slices.Equal(tags, []string{"1.0.0", "1.1.0", "latest"}) {
		t.Fatalf("stored tags = %v, %v", tags, err)
	}
	waitEvent(t, ns, "app", meta.SucceededReason, "successful scan, found 3 tags", st.LastScanResult.Revision)

	// A new tag is found by the next scan, here requested as flux reconcile does.
	firstRevision := st.LastScanResult.Revision
	pushTags(t, host, repoPath, nil, "2.0.0")
	requestReconcile(t, repo)
	repo = waitFor(t, repo, time.Minute, func(r *imagev1.ImageRepository) error {
		if r.Status.LastScanResult.TagCount != 4 || r.Status.LastHandledReconcileAt == "" {
			return fmt.Errorf("tagCount %d, lastHandledReconcileAt %q", r.Status.LastScanResult.TagCount, r.Status.LastHandledReconcileAt)
		}
		return ready(r)
	})
	if repo.Status.LastScanResult.Revision == firstRevision {
		t.Error("revision did not change with the tags")
	}

	// A changed exclusion list rescans at once, without waiting for the interval.
	repo.Spec.ExclusionList = []string{"^latest$"}
	if err := k8s().Update(testCtx(t), repo); err != nil {
		t.Fatal(err)
	}
	waitFor(t, repo, time.Minute, func(r *imagev1.ImageRepository) error {
		if r.Status.LastScanResult.TagCount != 4 || !slices.Equal(r.Status.ObservedExclusionList, []string{"^latest$"}) {
			return fmt.Errorf("tagCount %d, observed %v", r.Status.LastScanResult.TagCount, r.Status.ObservedExclusionList)
		}
		return ready(r)
	})
	if tags, _ := suiteEnv.store.Tags(storeKey(ns, "app")); slices.Contains(tags, "latest") || !slices.Contains(tags, "sha256-abc.sig") {
		t.Fatalf("stored tags after the exclusion change = %v", tags)
	}

	// Deleting the repository drops its tags from the database.
	if err := k8s().Delete(testCtx(t), repo); err != nil {
		t.Fatal(err)
	}
	eventuallyGone(t, repo)
	if _, err := suiteEnv.store.Count(storeKey(ns, "app")); !errors.Is(err, tagstore.ErrNotFound) {
		t.Fatalf("tags left after deletion: %v", err)
	}
}

// TestImageRepositoryInterval: a tag pushed after a scan is found by the next scan the
// interval triggers, and a reconcile between scans (here a spec-neutral label change does
// not even trigger one) does not rescan.
func TestImageRepositoryInterval(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	host := suiteEnv.reg.Host()
	repoPath := "interval/" + ns
	pushTags(t, host, repoPath, nil, "1.0.0")
	repo := newRepository(t, ns, "app", host+"/"+repoPath, func(r *imagev1.ImageRepository) {
		r.Spec.Interval = metav1.Duration{Duration: 2 * time.Second}
	})
	repo = waitFor(t, repo, time.Minute, ready)
	first := repo.Status.LastScanResult.ScanTime
	pushTags(t, host, repoPath, nil, "1.1.0")
	waitFor(t, repo, 20*time.Second, func(r *imagev1.ImageRepository) error {
		if r.Status.LastScanResult.TagCount != 2 {
			return fmt.Errorf("tagCount %d", r.Status.LastScanResult.TagCount)
		}
		if !r.Status.LastScanResult.ScanTime.After(first.Time) {
			return fmt.Errorf("scan time did not move")
		}
		return ready(r)
	})
}

func TestImageRepositoryAuthentication(t *testing.T) {
	t.Parallel()
	const user, pass = "flux", "registry-s3cret-pass"
	reg, err := registry.Start(registry.Options{Users: map[string]string{user: pass}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	pushTags(t, reg.Host(), "private/app", &authn.Basic{Username: user, Password: pass}, "1.0.0", "1.2.0")
	image := reg.Host() + "/private/app"
	ns := newNamespace(t, nil)

	// No credentials: the registry refuses, the condition names the image.
	anon := newRepository(t, ns, "anonymous", image)
	anon = waitFor(t, anon, time.Minute, readyIs[*imagev1.ImageRepository](metav1.ConditionFalse, imagev1.AuthenticationFailedReason))
	if msg := conditionOf(anon, meta.ReadyCondition).Message; !strings.Contains(msg, image) {
		t.Errorf("message does not name the image: %q", msg)
	}

	// spec.secretRef with a docker config.
	dockerConfigSecret(t, ns, "regcred", reg.Host(), user, pass)
	withSecret := newRepository(t, ns, "secret", image, func(r *imagev1.ImageRepository) {
		r.Spec.SecretRef = &meta.LocalObjectReference{Name: "regcred"}
	})
	withSecret = waitFor(t, withSecret, time.Minute, ready)
	if withSecret.Status.LastScanResult.TagCount != 2 {
		t.Errorf("tagCount = %d", withSecret.Status.LastScanResult.TagCount)
	}

	// The image pull secrets of spec.serviceAccountName.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "puller"},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}}}
	if err := k8s().Create(testCtx(t), sa); err != nil {
		t.Fatal(err)
	}
	waitFor(t, newRepository(t, ns, "sa", image, func(r *imagev1.ImageRepository) { r.Spec.ServiceAccountName = "puller" }), time.Minute, ready)

	// A wrong password is an authentication failure that never shows the password.
	dockerConfigSecret(t, ns, "wrong", reg.Host(), user, "wrong-s3cret-pass")
	wrong := waitFor(t, newRepository(t, ns, "wrong", image, func(r *imagev1.ImageRepository) {
		r.Spec.SecretRef = &meta.LocalObjectReference{Name: "wrong"}
	}), time.Minute, readyIs[*imagev1.ImageRepository](metav1.ConditionFalse, imagev1.AuthenticationFailedReason))
	if msg := conditionOf(wrong, meta.ReadyCondition).Message; strings.Contains(msg, "wrong-s3cret-pass") || strings.Contains(msg, pass) {
		t.Errorf("message leaks a password: %q", msg)
	}

	// A Secret without .dockerconfigjson stalls: only a change of the Secret or spec helps.
	bad := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "opaque"}, Data: map[string][]byte{"password": []byte(pass)}}
	if err := k8s().Create(testCtx(t), bad); err != nil {
		t.Fatal(err)
	}
	stalled := waitFor(t, newRepository(t, ns, "opaque", image, func(r *imagev1.ImageRepository) {
		r.Spec.SecretRef = &meta.LocalObjectReference{Name: "opaque"}
	}), time.Minute, readyIs[*imagev1.ImageRepository](metav1.ConditionFalse, imagev1.AuthenticationFailedReason))
	if c := conditionOf(stalled, meta.StalledCondition); c == nil || !strings.Contains(c.Message, ".dockerconfigjson") {
		t.Errorf("Stalled = %+v", c)
	}
}

// TestImageRepositoryUnreachable: a registry that goes away fails the scan with a condition
// naming the image, and the last good result stays, in the status and in the database.
func TestImageRepositoryUnreachable(t *testing.T) {
	t.Parallel()
	reg, err := registry.Start(registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	pushTags(t, reg.Host(), "gone/app", nil, "1.0.0", "1.1.0")
	ns := newNamespace(t, nil)
	repo := waitFor(t, newRepository(t, ns, "app", reg.Host()+"/gone/app"), time.Minute, ready)
	good := *repo.Status.LastScanResult

	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	requestReconcile(t, repo)
	repo = waitFor(t, repo, time.Minute, readyIs[*imagev1.ImageRepository](metav1.ConditionFalse, imagev1.ReadOperationFailedReason))
	if msg := conditionOf(repo, meta.ReadyCondition).Message; !strings.Contains(msg, reg.Host()+"/gone/app") || !strings.HasPrefix(msg, "scan failed") {
		t.Errorf("message = %q", msg)
	}
	if c := conditionOf(repo, meta.ReconcilingCondition); c == nil || c.Reason != meta.ProgressingWithRetryReason {
		t.Errorf("Reconciling = %+v: a transient failure is retried", c)
	}
	if got := repo.Status.LastScanResult; got == nil || got.Revision != good.Revision || got.TagCount != good.TagCount || !got.ScanTime.Equal(&good.ScanTime) {
		t.Errorf("last scan result = %+v, want the last good one %+v", got, good)
	}
	if tags, err := suiteEnv.store.Tags(storeKey(ns, "app")); err != nil || len(tags) != 2 {
		t.Errorf("stored tags = %v, %v", tags, err)
	}
	waitEvent(t, ns, "app", imagev1.ReadOperationFailedReason, reg.Host()+"/gone/app", "")
}

func TestImageRepositoryStalls(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	tests := []struct {
		name, image, reason, message string
		opt                          func(*imagev1.ImageRepository)
	}{
		{name: "tag", image: "ghcr.io/org/app:1.0", reason: imagev1.ImageURLInvalidReason, message: "give the repository only"},
		{name: "scheme", image: "https://ghcr.io/org/app", reason: imagev1.ImageURLInvalidReason, message: "remove the scheme"},
		{name: "provider", image: "ghcr.io/org/app", reason: InvalidProviderConfigurationReason, message: "provider 'aws' cannot log in to registry 'ghcr.io'",
			opt: func(r *imagev1.ImageRepository) { r.Spec.Provider = imagev1.AWSProvider }},
		{name: "exclusion", image: "ghcr.io/org/app", reason: imagev1.ReadOperationFailedReason, message: ".spec.exclusionList[0]",
			opt: func(r *imagev1.ImageRepository) { r.Spec.ExclusionList = []string{"(["} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []func(*imagev1.ImageRepository)
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			repo := waitFor(t, newRepository(t, ns, tt.name, tt.image, opts...), time.Minute,
				readyIs[*imagev1.ImageRepository](metav1.ConditionFalse, tt.reason))
			if c := conditionOf(repo, meta.StalledCondition); c == nil || c.Reason != tt.reason || !strings.Contains(c.Message, tt.message) {
				t.Errorf("Stalled = %+v, want %s containing %q", c, tt.reason, tt.message)
			}
			if repo.Status.ObservedGeneration != repo.Generation {
				t.Errorf("observedGeneration = %d", repo.Status.ObservedGeneration)
			}
		})
	}
}

// waitEvent waits for an event about the object with reason whose message contains msg
// and, when revision is set, carries it as image.toolkit.fluxcd.io/revision.
func waitEvent(t testing.TB, ns, name, reason, msg, revision string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, ev := range suiteEnv.events.InNamespace(ns) {
			if ev.InvolvedObject.Name == name && ev.Reason == reason && strings.Contains(ev.Message, msg) &&
				(revision == "" || ev.Metadata[imagev1.GroupVersion.Group+"/revision"] == revision) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event for %s/%s containing %q; got %+v", reason, ns, name, msg, suiteEnv.events.InNamespace(ns))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// eventuallyGone waits until obj no longer exists (the finalizer ran).
func eventuallyGone(t testing.TB, obj client.Object) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := k8s().Get(testCtx(t), client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s still exists: %v", obj.GetNamespace(), obj.GetName(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
