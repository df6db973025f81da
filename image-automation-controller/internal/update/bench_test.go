package update

import (
	"fmt"
	"testing"

	"gotk.dev/image-automation-controller/internal/setters"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/pkg/git"
)

// BenchmarkUpdate100Files50Policies runs one full automation (shallow clone, setters, commit,
// push) against the real Git server over HTTP; every iteration moves all 50 policies, so each
// run rewrites 100 files (two per policy) and pushes one commit.
func BenchmarkUpdate100Files50Policies(b *testing.B) {
	s := gitserver.New(b, gitserver.Options{})
	if err := s.Init("fleet"); err != nil {
		b.Fatal(err)
	}
	files := map[string]string{}
	for i := range 100 {
		files[fmt.Sprintf("apps/app-%03d/deployment.yaml", i)] = fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%03d
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/team/svc-%02d:0.0.0 # {"$imagepolicy": "flux-system:svc-%02d"}
`, i, i%50, i%50)
	}
	s.Commit("fleet").Branch("main").Files(files).MustDo(b)
	client := git.NewClient(git.ClientOptions{})
	opts := baseOptions(b, s.RepoURL("fleet"), nil)
	opts.Path = "apps"
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		opts.Policies = opts.Policies[:0]
		for p := range 50 {
			opts.Policies = append(opts.Policies, setters.Policy{Namespace: "flux-system", Name: fmt.Sprintf("svc-%02d", p),
				Image: fmt.Sprintf("registry.example.com/team/svc-%02d", p), Tag: fmt.Sprintf("1.0.%d", n)})
		}
		res, err := Run(testContext(b), client, opts)
		if err != nil {
			b.Fatal(err)
		}
		if !res.Changed || len(res.Changes.Files()) != 100 {
			b.Fatalf("changed %d files", len(res.Changes.Files()))
		}
	}
}
