package journeys_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/fluxcd/pkg/apis/meta"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	autov1 "gotk.dev/image-automation-controller/api/v1"
	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/pkg/git"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const imageNS = "imageauto"

// imageInterval is the scan and Git polling interval of the image journey: the chain runs
// on intervals alone, as it does in a cluster without webhooks.
const imageInterval = 3 * time.Second

// TestImageUpdate is the image automation journey: a tag pushed to the registry is found by
// the ImageRepository's next scan, chosen by the ImagePolicy, written by the
// ImageUpdateAutomation into the Deployment manifest as one signed commit on main, fetched
// by the GitRepository and applied by the Kustomization.
func TestImageUpdate(t *testing.T) {
	t.Parallel()
	env, ctx := journey(t, 3*time.Minute)
	createNamespace(t, ctx, imageNS)
	image := env.Registry.Host() + "/imageauto/podinfo"
	pushImageTag(t, image, "1.0.0")

	repo, err := env.CreateGitRepo("imageauto")
	if err != nil {
		t.Fatal(err)
	}
	first, err := repo.Commit(map[string]string{"deploy/podinfo.yaml": podinfoDeployment(image + ":1.0.0")}, "podinfo 1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	src := gitRepository(imageNS, "imageauto", repo.HTTPURL)
	src.Spec.Interval = metav1.Duration{Duration: imageInterval}
	apply(t, ctx, src)
	ks := kustomization(imageNS, "imageauto", sourcev1.GitRepositoryKind, "imageauto", "./deploy")
	apply(t, ctx, ks)
	waitApplied(t, ctx, ks, repo.Revision(first), time.Minute)

	private, public := signingKey(t)
	apply(t, ctx, &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: imageNS, Name: "signing"}, Data: map[string][]byte{"git.asc": private}})
	apply(t, ctx, &imagev1.ImageRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: imagev1.GroupVersion.String(), Kind: imagev1.ImageRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: imageNS, Name: "podinfo"},
		Spec:       imagev1.ImageRepositorySpec{Image: image, Interval: metav1.Duration{Duration: imageInterval}},
	})
	apply(t, ctx, &imagev1.ImagePolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: imagev1.GroupVersion.String(), Kind: imagev1.ImagePolicyKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: imageNS, Name: "podinfo"},
		Spec: imagev1.ImagePolicySpec{ImageRepositoryRef: meta.NamespacedObjectReference{Name: "podinfo"},
			Policy: imagev1.ImagePolicyChoice{SemVer: &imagev1.SemVerPolicy{Range: ">=1.0.0"}}},
	})
	auto := &autov1.ImageUpdateAutomation{
		TypeMeta:   metav1.TypeMeta{APIVersion: autov1.GroupVersion.String(), Kind: autov1.ImageUpdateAutomationKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: imageNS, Name: "imageauto"},
		Spec: autov1.ImageUpdateAutomationSpec{
			SourceRef: autov1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "imageauto"},
			Interval:  metav1.Duration{Duration: longInterval},
			GitSpec: &autov1.GitSpec{Commit: autov1.CommitSpec{
				Author:          autov1.CommitUser{Name: "fluxcdbot", Email: "fluxcdbot@users.noreply.github.com"},
				SigningKey:      &autov1.SigningKey{SecretRef: meta.LocalObjectReference{Name: "signing"}},
				MessageTemplate: "{{ range .Changed.Changes }}{{ .OldValue }} -> {{ .NewValue }}{{ end }}",
			}},
			Update: &autov1.UpdateStrategy{Strategy: autov1.UpdateStrategySetters, Path: "./deploy"},
		},
	}
	apply(t, ctx, auto)
	// 1.0.0 is what the manifest has: the automation has nothing to commit.
	waitFor(t, ctx, auto, time.Minute, "ImageUpdateAutomation to run", readyAnd(auto, func() (bool, string) {
		if auto.Status.LastAutomationRunTime == nil {
			return false, "not run yet"
		}
		return auto.Status.LastPushCommit == "", "pushed " + auto.Status.LastPushCommit
	}))

	pushed := time.Now()
	pushImageTag(t, image, "1.1.0")
	var deployment appsv1.Deployment
	deployment.Namespace, deployment.Name = imageNS, "podinfo"
	waitFor(t, ctx, &deployment, time.Minute, "the new image to be applied", func() (bool, string) {
		c := deployment.Spec.Template.Spec.Containers
		if len(c) == 0 || c[0].Image != image+":1.1.0" {
			return false, fmt.Sprintf("containers %v", c)
		}
		return true, ""
	})
	t.Logf("tag pushed -> Deployment updated in %s (scan and Git intervals %s)", time.Since(pushed).Round(time.Millisecond), imageInterval)

	mustGet(t, ctx, auto)
	commit := auto.Status.LastPushCommit
	if commit == "" || auto.Status.ObservedSourceRevision != "main@sha1:"+commit {
		t.Fatalf("automation status = %+v", auto.Status)
	}
	mustGet(t, ctx, ks)
	if ks.Status.LastAppliedRevision != repo.Revision(commit) {
		t.Errorf("Kustomization applied %s, want the automation's commit %s", ks.Status.LastAppliedRevision, commit)
	}
	c, err := git.NewClient(git.ClientOptions{}).Clone(ctx, repo.HTTPURL, t.TempDir(), nil, git.CheckoutRef{Branch: "main"}, git.CloneOptions{ShallowIfPossible: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Hash != commit {
		t.Fatalf("main is at %s, the automation pushed %s", c.Hash, commit)
	}
	if _, err := git.VerifyOpenPGP(c.Signature, c.Encoded, string(public)); err != nil {
		t.Errorf("the automation's commit is not signed with its key: %v", err)
	}
	if want := image + ":1.0.0 -> " + image + ":1.1.0"; strings.TrimSpace(c.Message) != want {
		t.Errorf("commit message = %q, want %q", c.Message, want)
	}
}

// podinfoDeployment is a Deployment whose image is marked for the podinfo ImagePolicy.
func podinfoDeployment(image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: %s
spec:
  selector:
    matchLabels: {app: podinfo}
  template:
    metadata:
      labels: {app: podinfo}
    spec:
      containers:
        - name: podinfo
          image: %s # {"$imagepolicy": "%s:podinfo"}
`, imageNS, image, imageNS)
}

// pushImageTag pushes a small random image to the Env's registry as image:tag.
func pushImageTag(t *testing.T, image, tag string) {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(image + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

// signingKey returns an armored OpenPGP private key and its armored public key.
func signingKey(t *testing.T) (private, public []byte) {
	t.Helper()
	e, err := openpgp.NewEntity("Flux Bot", "", "fluxcdbot@users.noreply.github.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	armored := func(typ string, write func(*bytes.Buffer) error) []byte {
		var raw, out bytes.Buffer
		if err := write(&raw); err != nil {
			t.Fatal(err)
		}
		w, err := armor.Encode(&out, typ, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(raw.Bytes())
		_ = w.Close()
		return out.Bytes()
	}
	return armored(openpgp.PrivateKeyType, func(b *bytes.Buffer) error { return e.SerializePrivate(b, nil) }),
		armored(openpgp.PublicKeyType, func(b *bytes.Buffer) error { return e.Serialize(b) })
}
