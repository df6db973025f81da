package journeys_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/e2e/framework"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const (
	ociNS   = "oci"
	ociRepo = "journeys/oci-app"
	// ociOrigin is where the artifact claims to come from (`flux push artifact --source`).
	ociOrigin = "https://git.example.com/org/oci-app"
	// Media types of a Flux artifact (`flux push artifact`).
	fluxConfigMediaType  = "application/vnd.cncf.flux.config.v1+json"
	fluxContentMediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"
)

// TestOCIRollout is journey 7: an artifact pushed to the registry in the Flux format is
// reconciled through an OCIRepository following a tag; pushing a new digest to the tag rolls
// it out, and the origin revision of each push reaches the Kustomization's status.
func TestOCIRollout(t *testing.T) {
	t.Parallel()
	env, ctx := journey(t, 2*time.Minute)
	createNamespace(t, ctx, ociNS)

	push := func(version, originRevision string) string {
		t.Helper()
		dir := t.TempDir()
		files := map[string]string{"app.yaml": configMap(ociNS, "oci-app", map[string]string{"version": version})}
		if version != "1" {
			files["extra.yaml"] = configMap(ociNS, "oci-extra", map[string]string{"since": version})
		}
		if err := framework.WriteTree(dir, files); err != nil {
			t.Fatal(err)
		}
		digest, err := env.PushArtifact(ctx, ociRepo, "latest", dir, ociOrigin, originRevision)
		if err != nil {
			t.Fatal(err)
		}
		checkFluxFormat(t, ctx, strings.TrimPrefix(env.OCIURL(ociRepo), "oci://")+"@"+digest)
		return digest
	}
	origin1 := "main@sha1:" + strings.Repeat("1", 40)
	digest1 := push("1", origin1)

	src := &sourcev1.OCIRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "oci-app", Namespace: ociNS},
		Spec: sourcev1.OCIRepositorySpec{
			URL:       env.OCIURL(ociRepo),
			Reference: &sourcev1.OCIRepositoryRef{Tag: "latest"},
			Interval:  metav1.Duration{Duration: longInterval},
			Timeout:   &metav1.Duration{Duration: 20 * time.Second},
			Insecure:  true,
		},
	}
	apply(t, ctx, src)
	ks := kustomization(ociNS, "oci-app", sourcev1.OCIRepositoryKind, "oci-app", "./")
	apply(t, ctx, ks)

	// Flux's OCI revision format: <tag>@<manifest digest>.
	rev1 := "latest@" + digest1
	waitArtifact(t, ctx, src, rev1, time.Minute)
	waitApplied(t, ctx, ks, rev1, time.Minute)
	if ks.Status.LastAppliedOriginRevision != origin1 {
		t.Errorf("lastAppliedOriginRevision %q, want %q (org.opencontainers.image.revision)", ks.Status.LastAppliedOriginRevision, origin1)
	}
	if cm, ok := getConfigMap(t, ctx, ociNS, "oci-app"); !ok || cm.Data["version"] != "1" {
		t.Fatalf("ConfigMap oci-app: %v, want version=1", cm)
	}

	origin2 := "main@sha1:" + strings.Repeat("2", 40)
	digest2 := push("2", origin2)
	if digest2 == digest1 {
		t.Fatalf("the second push has the first's digest %s", digest1)
	}
	rev2 := "latest@" + digest2
	requestReconcile(t, ctx, ociNS, "ocirepository/oci-app")
	waitArtifact(t, ctx, src, rev2, 30*time.Second)
	waitApplied(t, ctx, ks, rev2, 30*time.Second)
	if ks.Status.LastAppliedOriginRevision != origin2 {
		t.Errorf("lastAppliedOriginRevision %q, want %q", ks.Status.LastAppliedOriginRevision, origin2)
	}
	if cm, ok := getConfigMap(t, ctx, ociNS, "oci-app"); !ok || cm.Data["version"] != "2" {
		t.Errorf("ConfigMap oci-app: %v, want version=2", cm)
	}
	if _, ok := getConfigMap(t, ctx, ociNS, "oci-extra"); !ok {
		t.Error("ConfigMap oci-extra of the new digest was not created")
	}
}

// checkFluxFormat reads the manifest at ref from the registry and checks it is a Flux
// artifact: the Flux config media type and one Flux content layer.
func checkFluxFormat(t *testing.T, ctx context.Context, ref string) {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r, remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("read %s: %v", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatalf("manifest of %s: %v", ref, err)
	}
	var layers []string
	for _, l := range m.Layers {
		layers = append(layers, string(l.MediaType))
	}
	if string(m.Config.MediaType) != fluxConfigMediaType || len(layers) != 1 || layers[0] != fluxContentMediaType {
		t.Fatalf("%s is not a Flux artifact: config %s, layers %v", ref, m.Config.MediaType, layers)
	}
	if got := m.Annotations["org.opencontainers.image.source"]; got != ociOrigin {
		t.Fatalf("%s: org.opencontainers.image.source %q, want %q", ref, got, ociOrigin)
	}
}
