package update

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"gotk.dev/pkg/git"
)

const upstreamTemplate = `Automated image update

Automation name: {{ .AutomationObject }}

Files:
{{ range $filename, $_ := .Changed.FileChanges -}}
- {{ $filename }}
{{ end -}}

Objects:
{{ range $resource, $changes := .Changed.Objects -}}
- {{ $resource.Kind | lower }} {{ $resource.Name }}
  Changes:
{{- range $_, $change := $changes }}
    - {{ $change.OldValue }} -> {{ $change.NewValue }}
{{ end -}}
{{ end -}}
Cluster: {{ .Values.cluster }}
`

func TestRunCommitsAndPushes(t *testing.T) {
	t.Parallel()
	s, opts := httpServer(t)
	opts.MessageTemplate = upstreamTemplate
	opts.MessageTemplateValues = map[string]string{"cluster": "prod"}
	before, _ := s.Resolve("app", "main")

	res, err := Run(testContext(t), git.NewClient(git.ClientOptions{}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Attempts != 1 || res.PushBranch != "main" || !slices.Equal(res.PushedRefs, []string{"refs/heads/main"}) {
		t.Fatalf("result = %+v", res)
	}
	if res.ObservedRevision != "main@sha1:"+before {
		t.Errorf("observed revision = %s", res.ObservedRevision)
	}
	bare := s.Path("app")
	if head, _ := s.Resolve("app", "main"); head != res.Commit {
		t.Fatalf("main = %s, pushed %s", head, res.Commit)
	}
	if parent := gitOut(t, bare, "rev-parse", res.Commit+"^"); parent != before {
		t.Errorf("parent = %s, want %s", parent, before)
	}
	wantMsg := `Automated image update

Automation name: flux-system/podinfo-update

Files:
- podinfo/deployment.yaml
- podinfo/values.yaml
Objects:
-  
  Changes:
    - 6.3.0 -> 6.5.0
- deployment podinfo
  Changes:
    - ghcr.io/stefanprodan/podinfo:6.3.0 -> ghcr.io/stefanprodan/podinfo:6.5.0
Cluster: prod
`
	if res.Message != wantMsg {
		t.Errorf("message:\n%s\nwant:\n%s", res.Message, wantMsg)
	}
	if got := gitOut(t, bare, "log", "-1", "--format=%B", res.Commit); got != strings.TrimSpace(wantMsg) {
		t.Errorf("commit message in the repository:\n%s", got)
	}
	if got := gitOut(t, bare, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%aI", res.Commit); got != "fluxcdbot <fluxcdbot@users.noreply.github.com>|fluxcdbot <fluxcdbot@users.noreply.github.com>|2026-01-02T03:04:05+00:00" {
		t.Errorf("author/committer = %s", got)
	}
	// Only the marked values changed; the staging copy (outside update.path) did not.
	wantDeploy := strings.Replace(deployment, "podinfo:6.3.0", "podinfo:6.5.0", 1)
	if got := show(t, bare, "main", "clusters/prod/podinfo/deployment.yaml"); got != wantDeploy {
		t.Errorf("deployment.yaml:\n%s", got)
	}
	if got := show(t, bare, "main", "clusters/prod/podinfo/values.yaml"); got != strings.Replace(values, `"6.3.0"`, `"6.5.0"`, 1) {
		t.Errorf("values.yaml:\n%s", got)
	}
	if got := show(t, bare, "main", "clusters/staging/deployment.yaml"); got != deployment {
		t.Errorf("staging deployment changed")
	}
	if files := gitOut(t, bare, "diff", "--name-only", before, res.Commit); files != "clusters/prod/podinfo/deployment.yaml\nclusters/prod/podinfo/values.yaml" {
		t.Errorf("changed files: %s", files)
	}

	// Nothing left to do: no commit, no push.
	pushes := s.Requests().ReceivePack
	again, err := Run(testContext(t), git.NewClient(git.ClientOptions{}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed || again.Commit != "" || s.Requests().ReceivePack != pushes {
		t.Fatalf("second run pushed: %+v", again)
	}
	if again.ObservedRevision != "main@sha1:"+res.Commit {
		t.Errorf("second run observed %s", again.ObservedRevision)
	}
}

func TestRunDefaultMessageAndWholeRepository(t *testing.T) {
	t.Parallel()
	s, opts := httpServer(t)
	opts.Path = ""
	opts.ShallowClone = false
	res, err := Run(testContext(t), git.NewClient(git.ClientOptions{}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Message != DefaultMessage || len(res.Changes.Files()) != 3 {
		t.Fatalf("message %q, files %v", res.Message, res.Changes.Files())
	}
	if got := show(t, s.Path("app"), "main", "clusters/staging/deployment.yaml"); !strings.Contains(got, "6.5.0") {
		t.Errorf("staging not updated:\n%s", got)
	}
}

func TestRunConfigErrors(t *testing.T) {
	t.Parallel()
	_, base := httpServer(t)
	client := git.NewClient(git.ClientOptions{})
	tests := []struct {
		name   string
		mutate func(*Options)
		want   string
		config bool
	}{
		{name: "path escapes", mutate: func(o *Options) { o.Path = "../../etc" }, want: "must stay inside the repository", config: true},
		{name: "path missing", mutate: func(o *Options) { o.Path = "clusters/nope" }, want: `.spec.update.path "clusters/nope" is not a directory`, config: true},
		{name: "force refspec", mutate: func(o *Options) { o.PushRefspec = "+refs/heads/main:refs/heads/x" }, want: "force-update refspecs", config: true},
		{name: "delete refspec", mutate: func(o *Options) { o.PushRefspec = ":refs/heads/x" }, want: "deletion refspecs", config: true},
		{name: "no push branch", mutate: func(o *Options) { o.Checkout = git.CheckoutRef{Tag: "v1"} }, want: "no branch to push to", config: true},
		{name: "bad branch", mutate: func(o *Options) { o.PushBranch = "a..b" }, want: "invalid push branch", config: true},
		{name: "removed .Updated data", mutate: func(o *Options) { o.MessageTemplate = "{{ range .Updated.Images }}{{ . }}{{ end }}" }, want: "the .Updated template data was removed, use .Changed"},
		{name: "template syntax", mutate: func(o *Options) { o.MessageTemplate = "{{ .Changed" }, want: "invalid .spec.git.commit.messageTemplate"},
		{name: "missing branch", mutate: func(o *Options) { o.Checkout = git.CheckoutRef{Branch: "nope"} }, want: `couldn't find remote ref "refs/heads/nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := base
			opts.WorkDir = t.TempDir()
			tt.mutate(&opts)
			_, err := Run(testContext(t), client, opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			var ce *ConfigError
			if errors.As(err, &ce) != tt.config {
				t.Fatalf("ConfigError = %v for %v", !tt.config, err)
			}
			if strings.Contains(err.Error(), "git-secret-pass") {
				t.Fatal("password in error")
			}
			if entries, _ := os.ReadDir(opts.WorkDir); len(entries) != 0 {
				t.Fatalf("clone left behind: %v", entries)
			}
		})
	}
}
