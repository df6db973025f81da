package controller

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestOCIRepositoryMaliciousLayers pushes hand-crafted Flux artifacts whose layer tries to
// write outside the extraction directory: each is refused with FetchFailed (reason OCIArtifactLayerOperationFailed, as upstream) naming
// the entry,
// no artifact is stored, and nothing appears outside the working directory.
func TestOCIRepositoryMaliciousLayers(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	ns := newNamespace(t)
	parent := filepath.Dir(suiteEnv.workDir)
	// Where a traversal from <workDir>/<object dir> would land.
	landing := func(name string) []string {
		return []string{filepath.Join(suiteEnv.workDir, name), filepath.Join(parent, name), filepath.Join(filepath.Dir(parent), name)}
	}
	for _, tc := range []struct {
		name    string
		entries []tarFile
		want    []string // message fragments
		landing []string // paths that must not exist afterwards
	}{
		{"dot-dot", []tarFile{{name: "ok.yaml", content: "ok"}, {name: "../" + ns + "-dotdot.txt", content: "pwned"}},
			[]string{ns + "-dotdot.txt", ".."}, landing(ns + "-dotdot.txt")},
		{"nested-dot-dot", []tarFile{{name: "deploy/../../../" + ns + "-nested.txt", content: "pwned"}},
			[]string{ns + "-nested.txt"}, landing(ns + "-nested.txt")},
		{"absolute", []tarFile{{name: filepath.Join(parent, ns+"-abs.txt"), content: "pwned"}},
			[]string{ns + "-abs.txt", "absolute"}, []string{filepath.Join(parent, ns+"-abs.txt")}},
		{"write-through-symlink", []tarFile{{name: "out", link: "../.."}, {name: "out/" + ns + "-link.txt", content: "pwned"}},
			[]string{"out"}, landing(ns + "-link.txt")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			digest := pushLayers(t, reg.Host()+"/evil/"+tc.name+":latest", sourcev1.OCIArtifactConfigMediaType,
				[]rawLayer{{data: tarGz(t, tc.entries...), mediaType: sourcev1.OCIArtifactContentMediaType}}, nil)
			obj := newOCIRepository(ns, tc.name, "oci://"+reg.Host()+"/evil/"+tc.name, nil)
			create(t, obj)
			waitNotReady(t, obj, sourcev1.OCILayerOperationFailedReason)
			wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.OCILayerOperationFailedReason, append(tc.want, digest)...)
			if obj.Status.Artifact != nil {
				t.Error("an artifact was stored from a hostile layer")
			}
			for _, p := range tc.landing {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s was written outside the working directory", p)
				}
			}
			if dirs := leftoverWorkDirs(t, "ocirepository", ns, tc.name); len(dirs) > 0 {
				t.Errorf("working directories left behind: %v", dirs)
			}
		})
	}
}

// TestOCIRepositoryGiBLayer pulls a layer holding a real 1 GiB file (1 MiB compressed): the
// extraction stops at MaxArtifactSize, long before the gigabyte is written.
func TestOCIRepositoryGiBLayer(t *testing.T) {
	t.Parallel()
	reg := inProcessRegistry(t)
	layer := gibTarGz(t, "zeros.bin")
	digest := pushLayers(t, reg.Host()+"/big:latest", sourcev1.OCIArtifactConfigMediaType,
		[]rawLayer{{data: layer, mediaType: sourcev1.OCIArtifactContentMediaType}}, nil)
	ns := newNamespace(t)
	obj := newOCIRepository(ns, "gib", "oci://"+reg.Host()+"/big", nil)
	start := time.Now()
	create(t, obj)
	waitNotReady(t, obj, sourcev1.OCILayerOperationFailedReason)
	t.Logf("refused a 1 GiB file from a %d KiB layer in %s", len(layer)>>10, time.Since(start))
	wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.OCILayerOperationFailedReason, "zeros.bin", "latest@"+digest, "size limit")
	if obj.Status.Artifact != nil {
		t.Fatal("an artifact was stored above the size limit")
	}
	if dirs := leftoverWorkDirs(t, "ocirepository", ns, "gib"); len(dirs) > 0 {
		t.Errorf("working directories left behind: %v", dirs)
	}
}
