package app

import (
	"bytes"
	"testing"

	"gotk.dev/internal/testing/golden"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// tableObjects are Flux objects in the states flux get must tell apart.
const tableObjects = `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: podinfo, namespace: flux-system, generation: 2}
spec: {url: https://github.com/stefanprodan/podinfo, interval: 1m}
status:
  observedGeneration: 2
  artifact: {revision: "main@sha1:0123456789abcdef0123456789abcdef01234567"}
  conditions:
  - {type: Ready, status: "True", reason: Succeeded, message: "stored artifact for revision 'main@sha1:0123456789abcdef0123456789abcdef01234567'"}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: manifests, namespace: apps, generation: 1}
spec: {url: oci://ghcr.io/x, interval: 1m, suspend: true}
status:
  observedGeneration: 1
  artifact: {revision: "6.1.6@sha256:aaaaaaaabbbbbbbbccccccccddddddddeeeeeeeeffffffff0000000011111111"}
  conditions:
  - {type: Ready, status: "False", reason: OCIOperationFailed, message: "failed to pull\nmanifest: unauthorized"}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: new, namespace: flux-system, generation: 1}
spec: {interval: 1m, sourceRef: {kind: GitRepository, name: podinfo}, prune: true}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: edited, namespace: flux-system, generation: 3}
spec: {interval: 1m, sourceRef: {kind: GitRepository, name: podinfo}, prune: true}
status:
  observedGeneration: 2
  lastAppliedRevision: "main@sha1:0123456789abcdef0123456789abcdef01234567"
  conditions:
  - {type: Ready, status: "True", reason: ReconciliationSucceeded, message: "Applied revision: main@sha1:0123456789abcdef0123456789abcdef01234567"}
`

func decodeTableObjects(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, doc := range bytes.Split([]byte(tableObjects), []byte("\n---\n")) {
		// Through JSON, as the client decodes objects: numbers become int64.
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

// TestGetTable renders the same objects as flux get, flux get -A and flux get all print
// them: digests shortened, suspended and not-yet-reconciled objects, a multi-line message,
// and an object whose latest generation was not reconciled yet.
func TestGetTable(t *testing.T) {
	objs := decodeTableObjects(t)
	for _, tt := range []struct {
		golden           string
		all, includeKind bool
		header           bool
	}{
		{"get-table-namespace", false, false, true},
		{"get-table-all-namespaces", true, false, true},
		{"get-table-kinds-no-header", false, true, false},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			var rows [][]string
			for _, u := range objs {
				rows = append(rows, getRow(u, tt.all, tt.includeKind))
			}
			var header []string
			if tt.header {
				header = getHeader("GitRepository", tt.all)
			}
			var b bytes.Buffer
			if err := renderTable(&b, header, rows); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, tt.golden, b.String())
		})
	}
}

func TestTruncateHex(t *testing.T) {
	for in, want := range map[string]string{
		"main@sha1:0123456789abcdef0123456789abcdef01234567":     "main@sha1:01234567",
		"v1@sha256:" + "ab" + "0123456789abcdef0123456789abcdef": "v1@sha256:ab012345",
		"stored artifact for revision 'sha256:aaaaaaaaaaaa'":     "stored artifact for revision 'sha256:aaaaaaaa'",
		"sha1:0123":                            "sha1:0123", // too short to be a digest
		"6.1.6":                                "6.1.6",
		"a sha1:0123456789 b sha512:fffffffff": "a sha1:01234567 b sha512:ffffffff",
		"":                                     "",
	} {
		if got := truncateHex(in); got != want {
			t.Errorf("truncateHex(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatusSelector(t *testing.T) {
	objs := decodeTableObjects(t)
	tests := []struct {
		selector string
		want     []string // names kept
		err      bool
	}{
		{"", []string{"podinfo", "manifests", "new", "edited"}, false},
		{"ready=false", []string{"manifests"}, false},
		{"Ready=True", []string{"podinfo", "edited"}, false},
		{"reconciling=true", nil, false},
		{"ready", nil, true},
		{"=true", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.selector, func(t *testing.T) {
			sel, err := parseStatusSelector(tt.selector)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if err != nil {
				return
			}
			var got []string
			for _, u := range objs {
				if sel.matches(u) {
					got = append(got, u.GetName())
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("kept %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("kept %v, want %v", got, tt.want)
				}
			}
		})
	}
}
