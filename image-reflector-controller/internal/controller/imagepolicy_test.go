package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	aclapi "github.com/fluxcd/pkg/apis/acl"
	"github.com/fluxcd/pkg/apis/meta"
	"github.com/google/go-containerregistry/pkg/authn"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/internal/testing/registry"
	"gotk.dev/pkg/reconcile"
)

// TestImagePolicySelection runs each policy kind, with filters, over one scanned repository.
func TestImagePolicySelection(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	host := suiteEnv.reg.Host()
	repoPath := "select/" + ns
	pushTags(t, host, repoPath, nil,
		"1.0.0", "1.2.3", "1.10.0", "2.0.0-rc.1", "v2.1.0", "latest",
		"main-0a1b2c3-1700000001", "main-9f8e7d6-1700000300", "main-aaaaaaa-1699999999",
		"build-7", "build-42", "build-9")
	image := host + "/" + repoPath
	waitFor(t, newRepository(t, ns, "app", image), time.Minute, ready)
	ref := meta.NamespacedObjectReference{Name: "app"}

	tests := []struct {
		name   string
		choice imagev1.ImagePolicyChoice
		filter *imagev1.TagFilter
		want   string
	}{
		{name: "semver-range", choice: imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0 <2.0.0"}}, want: "1.10.0"},
		{name: "semver-all", choice: imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}}, want: "v2.1.0"},
		{name: "semver-filtered", choice: imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: "1.x"}},
			filter: &imagev1.TagFilter{Pattern: `^1\.\d+\.\d+$`}, want: "1.10.0"},
		{name: "alphabetical-asc", choice: imagev1.ImagePolicyChoice{Alphabetical: &imagev1.AlphabeticalPolicy{}},
			filter: &imagev1.TagFilter{Pattern: `^main-[a-f0-9]+-(?P<ts>\d+)$`, Extract: "$ts"}, want: "main-9f8e7d6-1700000300"},
		{name: "alphabetical-desc", choice: imagev1.ImagePolicyChoice{Alphabetical: &imagev1.AlphabeticalPolicy{Order: imagev1.OrderDesc}},
			filter: &imagev1.TagFilter{Pattern: `^main-`}, want: "main-0a1b2c3-1700000001"},
		{name: "numerical-asc", choice: imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{}},
			filter: &imagev1.TagFilter{Pattern: `^build-(?P<n>\d+)$`, Extract: "$n"}, want: "build-42"},
		{name: "numerical-desc", choice: imagev1.ImagePolicyChoice{Numerical: &imagev1.NumericalPolicy{Order: imagev1.OrderDesc}},
			filter: &imagev1.TagFilter{Pattern: `^build-(?P<n>\d+)$`, Extract: "$n"}, want: "build-7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newPolicy(t, ns, tt.name, ref, tt.choice, func(p *imagev1.ImagePolicy) { p.Spec.FilterTags = tt.filter })
			p = waitFor(t, p, time.Minute, ready)
			want := imagev1.ImageRef{Name: image, Tag: tt.want}
			if p.Status.LatestRef == nil || *p.Status.LatestRef != want || p.Status.ObservedPreviousRef != nil {
				t.Fatalf("latestRef = %+v, previous %+v; want %+v", p.Status.LatestRef, p.Status.ObservedPreviousRef, want)
			}
			if msg := conditionOf(p, meta.ReadyCondition).Message; msg != fmt.Sprintf("Latest image tag for '%s' resolved to %s", image, tt.want) {
				t.Errorf("Ready message = %q", msg)
			}
		})
	}
}

// TestImagePolicyFollowsScans: a new tag found by a scan moves latestRef, records the
// previous image and is an event; no spec change or request is needed.
func TestImagePolicyFollowsScans(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	host := suiteEnv.reg.Host()
	repoPath := "follow/" + ns
	image := host + "/" + repoPath
	pushTags(t, host, repoPath, nil, "1.0.0")
	repo := waitFor(t, newRepository(t, ns, "app", image), time.Minute, ready)
	p := newPolicy(t, ns, "app", meta.NamespacedObjectReference{Name: "app"},
		imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: "1.x"}})
	waitFor(t, p, time.Minute, ready)

	pushTags(t, host, repoPath, nil, "1.1.0")
	requestReconcile(t, repo)
	p = waitFor(t, p, time.Minute, func(p *imagev1.ImagePolicy) error {
		if p.Status.LatestRef.Tag != "1.1.0" {
			return fmt.Errorf("latest %s", p.Status.LatestRef.Tag)
		}
		return ready(p)
	})
	if prev := p.Status.ObservedPreviousRef; prev == nil || *prev != (imagev1.ImageRef{Name: image, Tag: "1.0.0"}) {
		t.Errorf("observedPreviousRef = %+v", prev)
	}
	wantMsg := fmt.Sprintf("Latest image tag for '%s' resolved to 1.1.0 (previously %s:1.0.0)", image, image)
	if msg := conditionOf(p, meta.ReadyCondition).Message; msg != wantMsg {
		t.Errorf("Ready message = %q, want %q", msg, wantMsg)
	}
	waitEvent(t, ns, "app", meta.SucceededReason, wantMsg, "")
}

// TestImagePolicyDigestReflection: IfNotPresent records the digest once; Always follows a
// re-pushed tag on its interval. The registry requires authentication, so the digest lookups
// use the ImageRepository's credentials.
func TestImagePolicyDigestReflection(t *testing.T) {
	t.Parallel()
	const user, pass = "flux", "digest-s3cret"
	reg, err := registry.Start(registry.Options{Users: map[string]string{user: pass}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	auth := &authn.Basic{Username: user, Password: pass}
	first := pushTags(t, reg.Host(), "digest/app", auth, "1.0.0")
	ns := newNamespace(t, nil)
	dockerConfigSecret(t, ns, "regcred", reg.Host(), user, pass)
	image := reg.Host() + "/digest/app"
	waitFor(t, newRepository(t, ns, "app", image, func(r *imagev1.ImageRepository) {
		r.Spec.SecretRef = &meta.LocalObjectReference{Name: "regcred"}
	}), time.Minute, ready)
	ref := meta.NamespacedObjectReference{Name: "app"}
	semver := imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: "1.x"}}

	never := waitFor(t, newPolicy(t, ns, "never", ref, semver), time.Minute, ready)
	if never.Status.LatestRef.Digest != "" {
		t.Errorf("Never reflected a digest: %+v", never.Status.LatestRef)
	}
	once := waitFor(t, newPolicy(t, ns, "once", ref, semver, func(p *imagev1.ImagePolicy) {
		p.Spec.DigestReflectionPolicy = imagev1.ReflectIfNotPresent
	}), time.Minute, ready)
	if once.Status.LatestRef.Digest != first {
		t.Fatalf("IfNotPresent digest = %q, want %s", once.Status.LatestRef.Digest, first)
	}
	always := waitFor(t, newPolicy(t, ns, "always", ref, semver, func(p *imagev1.ImagePolicy) {
		p.Spec.DigestReflectionPolicy = imagev1.ReflectAlways
		p.Spec.Interval = &metav1.Duration{Duration: time.Second}
	}), time.Minute, ready)
	if always.Status.LatestRef.Digest != first {
		t.Fatalf("Always digest = %q, want %s", always.Status.LatestRef.Digest, first)
	}
	wantMsg := fmt.Sprintf("Latest image tag for '%s' resolved to 1.0.0 with digest %s", image, first)
	if msg := conditionOf(always, meta.ReadyCondition).Message; msg != wantMsg {
		t.Errorf("Ready message = %q", msg)
	}

	// The tag is pushed again with other content: Always follows on its interval.
	second := pushTags(t, reg.Host(), "digest/app", auth, "1.0.0")
	always = waitFor(t, always, 30*time.Second, func(p *imagev1.ImagePolicy) error {
		if p.Status.LatestRef.Digest != second {
			return fmt.Errorf("digest %s, want %s", p.Status.LatestRef.Digest, second)
		}
		return ready(p)
	})
	if prev := always.Status.ObservedPreviousRef; prev == nil || prev.Digest != first {
		t.Errorf("observedPreviousRef = %+v", prev)
	}
	// IfNotPresent keeps the digest it recorded while the tag stays the same.
	requestReconcile(t, once)
	once = waitFor(t, once, 30*time.Second, func(p *imagev1.ImagePolicy) error {
		if p.Status.LastHandledReconcileAt == "" {
			return fmt.Errorf("request not handled")
		}
		return ready(p)
	})
	if once.Status.LatestRef.Digest != first {
		t.Errorf("IfNotPresent digest changed to %s", once.Status.LatestRef.Digest)
	}
}

func TestImagePolicyCrossNamespace(t *testing.T) {
	t.Parallel()
	host := suiteEnv.reg.Host()
	repoNS := newNamespace(t, nil)
	pushTags(t, host, "acl/"+repoNS, nil, "1.0.0")
	repo := waitFor(t, newRepository(t, repoNS, "shared", host+"/acl/"+repoNS), time.Minute, ready)
	tenant := newNamespace(t, map[string]string{"team": "apps"})
	ref := meta.NamespacedObjectReference{Name: "shared", Namespace: repoNS}
	semver := imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: "1.x"}}

	// Without accessFrom, another namespace is denied.
	p := waitFor(t, newPolicy(t, tenant, "app", ref, semver), time.Minute,
		readyIs[*imagev1.ImagePolicy](metav1.ConditionFalse, aclapi.AccessDeniedReason))
	if msg := conditionOf(p, meta.ReadyCondition).Message; !strings.Contains(msg, "ImageRepository '"+repoNS+"/shared'") {
		t.Errorf("message = %q", msg)
	}
	// accessFrom selecting another label still denies; selecting the tenant's label allows.
	// Patched, not updated: the controller writes the repository's status meanwhile, and an
	// update of the object read before would conflict.
	base := repo.DeepCopy()
	repo.Spec.AccessFrom = &aclapi.AccessFrom{NamespaceSelectors: []aclapi.NamespaceSelector{{MatchLabels: map[string]string{"team": "other"}}}}
	if err := k8s().Patch(testCtx(t), repo, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	if err := checkAccess(testCtx(t), k8s(), false, tenant, repo); reconcile.ReasonOf(err) != aclapi.AccessDeniedReason {
		t.Fatalf("mismatching selector: %v", err)
	}
	base = repo.DeepCopy()
	repo.Spec.AccessFrom.NamespaceSelectors = append(repo.Spec.AccessFrom.NamespaceSelectors, aclapi.NamespaceSelector{MatchLabels: map[string]string{"team": "apps"}})
	if err := k8s().Patch(testCtx(t), repo, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, time.Minute, ready)
	// --no-cross-namespace-refs refuses even what accessFrom allows, and stalls.
	err := checkAccess(testCtx(t), k8s(), true, tenant, repo)
	var stalled *reconcile.Stalling
	if !errorsAs(err, &stalled) || stalled.Reason != aclapi.AccessDeniedReason {
		t.Fatalf("with --no-cross-namespace-refs: %v", err)
	}
	if err := checkAccess(testCtx(t), k8s(), true, repoNS, repo); err != nil {
		t.Fatalf("same namespace with --no-cross-namespace-refs: %v", err)
	}
}

// TestImagePolicyWaitsForRepository: a policy created before its repository waits, and is
// woken by the repository's first scan.
func TestImagePolicyWaitsForRepository(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t, nil)
	host := suiteEnv.reg.Host()
	p := waitFor(t, newPolicy(t, ns, "early", meta.NamespacedObjectReference{Name: "later"},
		imagev1.ImagePolicyChoice{Alphabetical: &imagev1.AlphabeticalPolicy{}}), time.Minute,
		readyIs[*imagev1.ImagePolicy](metav1.ConditionFalse, imagev1.DependencyNotReadyReason))
	if c := conditionOf(p, meta.StalledCondition); c != nil {
		t.Errorf("waiting policy is stalled: %+v", c)
	}
	pushTags(t, host, "wait/"+ns, nil, "a", "b")
	newRepository(t, ns, "later", host+"/wait/"+ns)
	p = waitFor(t, p, time.Minute, ready)
	if p.Status.LatestRef.Tag != "b" {
		t.Errorf("latest = %+v", p.Status.LatestRef)
	}

	// A policy no tag matches fails, naming the policy it could not satisfy.
	none := waitFor(t, newPolicy(t, ns, "none", meta.NamespacedObjectReference{Name: "later"},
		imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}}), time.Minute,
		readyIs[*imagev1.ImagePolicy](metav1.ConditionFalse, metav1.StatusFailure))
	if msg := conditionOf(none, meta.ReadyCondition).Message; !strings.Contains(msg, "semver range '>=1.0.0'") {
		t.Errorf("message = %q", msg)
	}
	// An invalid range stalls.
	bad := waitFor(t, newPolicy(t, ns, "bad", meta.NamespacedObjectReference{Name: "later"},
		imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: "not a range"}}), time.Minute,
		readyIs[*imagev1.ImagePolicy](metav1.ConditionFalse, InvalidPolicyReason))
	if c := conditionOf(bad, meta.StalledCondition); c == nil || !strings.Contains(c.Message, ".spec.policy.semver.range") {
		t.Errorf("Stalled = %+v", c)
	}
}
