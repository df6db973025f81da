package setters

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkApply100Files50Policies rewrites 100 manifests marked for 50 policies in place;
// the policies alternate between two tags so every iteration changes every file.
func BenchmarkApply100Files50Policies(b *testing.B) {
	root := b.TempDir()
	for i := range 100 {
		dir := filepath.Join(root, fmt.Sprintf("app-%03d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		doc := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%03d # a comment
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/team/svc-%02d:0.0.0 # {"$imagepolicy": "flux-system:svc-%02d"}
        - name: sidecar
          image: "busybox:1.36"
`, i, i%50, i%50)
		if err := os.WriteFile(filepath.Join(dir, "deployment.yaml"), []byte(doc), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	policies := func(tag string) []Policy {
		var ps []Policy
		for p := range 50 {
			ps = append(ps, Policy{Namespace: "flux-system", Name: fmt.Sprintf("svc-%02d", p), Image: fmt.Sprintf("registry.example.com/team/svc-%02d", p), Tag: tag})
		}
		return ps
	}
	sets := [][]Policy{policies("1.0.0"), policies("2.0.0")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		rep, err := Apply(root, sets[i%2])
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Result.Files()) != 100 {
			b.Fatalf("changed %d files", len(rep.Result.Files()))
		}
		i++
	}
}
