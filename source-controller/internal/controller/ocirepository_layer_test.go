package controller

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestOCIRepositoryLayerSelector pulls a Helm chart pushed the way `helm push` stores it (a
// Helm config and a chart layer, no Flux layer): spec.layerSelector picks the chart layer by
// media type and either copies it as it is or extracts it; without a selector the first
// layer is used.
func TestOCIRepositoryLayerSelector(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	chart := tarGz(t,
		tarFile{name: "podinfo/Chart.yaml", content: "apiVersion: v2\nname: podinfo\nversion: 6.5.0\n"},
		tarFile{name: "podinfo/values.yaml", content: "replicaCount: 1\n"},
	)
	provenance := []byte("-----BEGIN PGP SIGNED MESSAGE-----\nnot a chart\n")
	digest := pushLayers(t, reg.Host()+"/charts/podinfo:6.5.0", helmConfigMediaType, []rawLayer{
		{data: chart, mediaType: helmChartMediaType},
		{data: provenance, mediaType: "application/vnd.cncf.helm.chart.provenance.v1.prov"},
	}, map[string]string{sourcev1.OCISourceAnnotation: "https://github.com/stefanprodan/podinfo"})
	url := "oci://" + reg.Host() + "/charts/podinfo"
	chartFiles := map[string]tarEntry{
		"podinfo/Chart.yaml":  "apiVersion: v2\nname: podinfo\nversion: 6.5.0\n",
		"podinfo/values.yaml": "replicaCount: 1\n",
	}
	ns := newNamespace(t)

	for _, tc := range []struct {
		name     string
		selector *sourcev1.OCILayerSelector
		// wantBytes, when set, is the exact artifact content (copy); else wantFiles.
		wantBytes []byte
		wantFiles map[string]tarEntry
	}{
		{"copy", &sourcev1.OCILayerSelector{MediaType: helmChartMediaType, Operation: sourcev1.OCILayerCopy}, chart, nil},
		{"extract", &sourcev1.OCILayerSelector{MediaType: helmChartMediaType, Operation: sourcev1.OCILayerExtract}, nil, chartFiles},
		{"media-type-only", &sourcev1.OCILayerSelector{MediaType: helmChartMediaType}, nil, chartFiles},
		{"no-selector-first-layer", nil, nil, chartFiles},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			obj := newOCIRepository(ns, tc.name, url, func(o *sourcev1.OCIRepository) {
				o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "6.5.0"}
				o.Spec.LayerSelector = tc.selector
			})
			create(t, obj)
			waitRevision(t, obj, "6.5.0@"+digest)
			body := download(t, obj.Status.Artifact)
			if tc.wantBytes != nil {
				if !bytes.Equal(body, tc.wantBytes) {
					t.Errorf("copied artifact differs from the chart layer (%d bytes, want %d)", len(body), len(tc.wantBytes))
				}
				sum := sha256.Sum256(tc.wantBytes)
				if want := "sha256:" + hex.EncodeToString(sum[:]); obj.Status.Artifact.Digest != want {
					t.Errorf("artifact digest = %s, want the layer digest %s", obj.Status.Artifact.Digest, want)
				}
			} else {
				wantFiles(t, untar(t, body), tc.wantFiles)
			}
			if got, want := obj.Status.ObservedLayerSelector, tc.selector; (got == nil) != (want == nil) || (got != nil && *got != *want) {
				t.Errorf("observedLayerSelector = %+v, want %+v", got, want)
			}
			if obj.Status.Artifact.Metadata[sourcev1.OCISourceAnnotation] != "https://github.com/stefanprodan/podinfo" {
				t.Errorf("artifact metadata = %v", obj.Status.Artifact.Metadata)
			}
		})
	}

	t.Run("unknown-media-type", func(t *testing.T) {
		t.Parallel()
		obj := newOCIRepository(ns, "unknown-media-type", url, func(o *sourcev1.OCIRepository) {
			o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "6.5.0"}
			o.Spec.LayerSelector = &sourcev1.OCILayerSelector{MediaType: "application/vnd.example.missing"}
		})
		create(t, obj)
		waitNotReady(t, obj, sourcev1.OCIPullFailedReason)
		wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.OCIPullFailedReason,
			"application/vnd.example.missing", helmChartMediaType)
	})

	// Changing only the layer selection rebuilds the artifact for the same revision.
	t.Run("selector-change", func(t *testing.T) {
		t.Parallel()
		obj := newOCIRepository(ns, "selector-change", url, func(o *sourcev1.OCIRepository) {
			o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "6.5.0"}
			o.Spec.LayerSelector = &sourcev1.OCILayerSelector{MediaType: helmChartMediaType, Operation: sourcev1.OCILayerExtract}
		})
		create(t, obj)
		waitReady(t, obj)
		extracted := obj.Status.Artifact.Digest
		update(t, obj, func(o *sourcev1.OCIRepository) { o.Spec.LayerSelector.Operation = sourcev1.OCILayerCopy })
		waitFor(t, obj, "the copied layer", func(o *sourcev1.OCIRepository) bool {
			return o.Status.ObservedLayerSelector != nil && o.Status.ObservedLayerSelector.Operation == sourcev1.OCILayerCopy &&
				o.Status.ObservedGeneration == o.Generation
		})
		if obj.Status.Artifact.Digest == extracted {
			t.Error("changing the layer operation kept the extracted artifact")
		}
		if body := download(t, obj.Status.Artifact); !bytes.Equal(body, chart) {
			t.Error("the artifact is not the copied chart layer")
		}
		if !strings.HasPrefix(obj.Status.Artifact.Revision, "6.5.0@sha256:") {
			t.Errorf("revision = %s", obj.Status.Artifact.Revision)
		}
	})
}
