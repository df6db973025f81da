package journeys_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/pkg/kustomize"
)

// TestPlatformRepositoryBuilds builds testdata/platform the way kustomize-controller does,
// for every cluster, without a cluster: `make dev-up` bootstraps clusters/dev (which no
// journey reconciles), the journeys clusters/production. Every Kustomization's path builds,
// every HelmRelease's HelmRepository is defined on that cluster, `${cluster_name}` is
// substituted wherever it is used, and every image policy marker names an ImagePolicy the
// cluster defines. tenants/ is left out: its rbac.yaml and sync.yaml are written by the flux
// CLI when a tenant is onboarded (TestMultiTenancy).
func TestPlatformRepositoryBuilds(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("testdata", "platform"))
	if err != nil {
		t.Fatal(err)
	}
	for _, cluster := range []string{"dev", "production"} {
		t.Run(cluster, func(t *testing.T) {
			syncs := build(t, root, "clusters/"+cluster)
			repos, policies := map[string]bool{}, map[string]bool{}
			var releases []*unstructured.Unstructured
			collect := func(objs []*unstructured.Unstructured) {
				for _, o := range objs {
					key := o.GetNamespace() + "/" + o.GetName()
					switch o.GetKind() {
					case "HelmRepository":
						repos[key] = true
					case "ImagePolicy":
						policies[key] = true
					case "HelmRelease":
						releases = append(releases, o)
					}
				}
			}
			collect(syncs)
			for _, ks := range syncs {
				if ks.GetKind() != "Kustomization" {
					continue
				}
				path, _, _ := unstructured.NestedString(ks.Object, "spec", "path")
				if strings.HasPrefix(path, "./tenants") {
					continue
				}
				objs := build(t, root, path)
				collect(objs)
				vars, _, _ := unstructured.NestedStringMap(ks.Object, "spec", "postBuild", "substitute")
				if usesClusterName(t, root, path) && vars["cluster_name"] != cluster {
					t.Errorf("Kustomization %s builds %s, which uses ${cluster_name}, but substitutes cluster_name=%q", ks.GetName(), path, vars["cluster_name"])
				}
			}
			for _, hr := range releases {
				ns, _, _ := unstructured.NestedString(hr.Object, "spec", "chart", "spec", "sourceRef", "namespace")
				if ns == "" {
					ns = hr.GetNamespace()
				}
				name, _, _ := unstructured.NestedString(hr.Object, "spec", "chart", "spec", "sourceRef", "name")
				if !repos[ns+"/"+name] {
					t.Errorf("HelmRelease %s/%s uses HelmRepository %s/%s, which %s does not define (has %v)", hr.GetNamespace(), hr.GetName(), ns, name, cluster, repos)
				}
			}
			for _, marker := range imagePolicyMarkers(t, root, cluster) {
				if !policies[marker] {
					t.Errorf("an image policy marker names %s, which %s does not define (has %v)", marker, cluster, policies)
				}
			}
		})
	}
}

// build is kustomize-controller's build of path in root.
func build(t *testing.T, root, path string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := kustomize.Build(root, path, kustomize.Options{NoRemoteBases: true})
	if err != nil {
		t.Fatalf("build %s: %v", path, err)
	}
	if len(objs) == 0 {
		t.Fatalf("build %s: no objects", path)
	}
	return objs
}

// usesClusterName reports whether any file under path (or the bases it names with ../)
// mentions ${cluster_name}: a coarse check, over the whole path's parent.
func usesClusterName(t *testing.T, root, path string) bool {
	t.Helper()
	found := false
	dir := filepath.Join(root, filepath.Dir(filepath.Clean(path)))
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		found = found || (err == nil && strings.Contains(string(b), "${cluster_name}"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

var imagePolicyMarker = regexp.MustCompile(`\{"\$imagepolicy": "([^:"]+):([^:"]+)(:[a-z]+)?"\}`)

// imagePolicyMarkers are the ImagePolicies (namespace/name) the setter markers of the
// paths cluster's ImageUpdateAutomations update name.
func imagePolicyMarkers(t *testing.T, root, cluster string) []string {
	t.Helper()
	var out []string
	for _, o := range build(t, root, "clusters/"+cluster) {
		if o.GetKind() != "ImageUpdateAutomation" {
			continue
		}
		path, _, _ := unstructured.NestedString(o.Object, "spec", "update", "path")
		err := filepath.WalkDir(filepath.Join(root, path), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			for _, m := range imagePolicyMarker.FindAllStringSubmatch(string(b), -1) {
				out = append(out, m[1]+"/"+m[2])
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out) == 0 {
			t.Errorf("ImageUpdateAutomation %s updates %s, which has no image policy marker", o.GetName(), path)
		}
	}
	return out
}
