package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gotk.dev/internal/testing/golden"

	"gotk.dev/internal/testing/registry"
)

// TestArtifactCommands pushes, tags, lists and pulls artifacts on a real distribution
// registry that requires basic auth.
func TestArtifactCommands(t *testing.T) {
	const user, password = "flux", "s3cr3t-pa55w0rd"
	reg, err := registry.Start(registry.Options{Users: map[string]string{user: password}})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	creds := "--creds=" + user + ":" + password
	kc := missingKubeconfig(t) // no artifact command needs a cluster
	host := reg.Host()
	url := func(tagged string) string { return "oci://" + host + "/" + tagged }
	flux := func(t *testing.T, args ...string) result {
		t.Helper()
		r := runFlux(t, "", append(args, kc)...)
		if strings.Contains(r.stdout+r.stderr, password) {
			t.Fatalf("the password was printed:\n%s%s", r.stdout, r.stderr)
		}
		return r
	}
	ok := func(t *testing.T, args ...string) result {
		t.Helper()
		r := flux(t, args...)
		if r.code != 0 {
			t.Fatalf("exit %d:\n%s", r.code, r.stderr)
		}
		return r
	}

	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "deploy", ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(src, "deploy", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"deploy/app.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n",
		"deploy/README.md":  "not a manifest\n",
		"deploy/.git/HEAD":  "ref: refs/heads/main\n",
		"deploy/sub/x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
	} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(src, "deploy")
	push := func(t *testing.T, tag string, extra ...string) result {
		return ok(t, append([]string{"push", "artifact", url("apps/podinfo:" + tag), "--path", dir,
			"--source", "https://github.com/org/apps.git", "--revision", "main@sha1:" + strings.Repeat("ab", 20),
			"--ignore-paths", "*.md", creds}, extra...)...)
	}

	t.Run("push without credentials is refused", func(t *testing.T) {
		r := flux(t, "push", "artifact", url("apps/podinfo:v1.0.0"), "--path", dir, "--source", "s", "--revision", "r")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1", r.code)
		}
		wants(t, "stderr", r.stderr, "► pushing artifact to "+host+"/apps/podinfo:v1.0.0", "authentication failed")
	})
	t.Run("push with a wrong password is refused without printing it", func(t *testing.T) {
		r := flux(t, "push", "artifact", url("apps/podinfo:v1.0.0"), "--path", dir, "--source", "s", "--revision", "r",
			"--creds", user+":wrong-"+password)
		if r.code != 1 || strings.Contains(r.stderr, "wrong-") {
			t.Fatalf("exit %d:\n%s", r.code, r.stderr)
		}
	})

	var v1 pushResult
	t.Run("push", func(t *testing.T) {
		r := push(t, "v1.0.0", "--reproducible", "-a", "org.opencontainers.image.description=podinfo manifests")
		wants(t, "stderr", r.stderr, "► pushing artifact to "+host+"/apps/podinfo:v1.0.0\n",
			"✔ artifact successfully pushed to "+host+"/apps/podinfo@sha256:")
		r = push(t, "v1.0.0", "--reproducible", "-a", "org.opencontainers.image.description=podinfo manifests", "-o", "json")
		if r.stderr != "" {
			t.Errorf("-o json printed progress: %q", r.stderr)
		}
		if err := json.Unmarshal([]byte(r.stdout), &v1); err != nil {
			t.Fatalf("%v: %s", err, r.stdout)
		}
		if v1.Repository != host+"/apps/podinfo" || v1.Tag != "v1.0.0" || !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(v1.Digest) ||
			v1.URL != "oci://"+host+"/apps/podinfo:v1.0.0@"+v1.Digest {
			t.Fatalf("unexpected result %+v", v1)
		}
		// --reproducible: the same content and annotations give the same digest.
		if !strings.Contains(push(t, "again", "--reproducible", "-a", "org.opencontainers.image.description=podinfo manifests").stderr, v1.Digest) {
			t.Error("a reproducible push of the same tree changed the digest")
		}
	})
	t.Run("tag", func(t *testing.T) {
		r := ok(t, "tag", "artifact", url("apps/podinfo:v1.0.0"), "--tag", "latest", "--tag", "stable", creds)
		wants(t, "stderr", r.stderr, "► tagging artifact\n✔ artifact tagged as "+host+"/apps/podinfo:latest\n✔ artifact tagged as "+host+"/apps/podinfo:stable\n")
	})
	push(t, "v1.1.0")
	push(t, "v2.0.0-rc.1")

	digests := regexp.MustCompile(`sha256:[0-9a-f]{64}`)
	// The padding depends on the registry's port: goldens keep the cells, not the padding.
	norm := normalizer{{regexp.MustCompile(regexp.QuoteMeta(host)), "REGISTRY"}, {regexp.MustCompile(` +\t`), "\t"}}
	t.Run("list", func(t *testing.T) {
		r := ok(t, "list", "artifacts", url("apps/podinfo"), creds)
		// Tags of the same manifest share a digest; the others differ.
		got := norm.apply(r.stdout)
		if !strings.Contains(got, "REGISTRY/apps/podinfo:latest\t"+v1.Digest) {
			t.Errorf("latest does not point at v1.0.0's digest:\n%s", got)
		}
		golden.Assert(t, "list-artifacts", digests.ReplaceAllString(got, "sha256:<digest>"))
	})
	t.Run("list with a semver filter, highest first", func(t *testing.T) {
		r := ok(t, "list", "artifacts", url("apps/podinfo"), "--filter-semver", ">=1.0.0", "-o", "json", creds)
		var metas []artifactMetadata
		if err := json.Unmarshal([]byte(r.stdout), &metas); err != nil {
			t.Fatal(err)
		}
		var urls []string
		for _, m := range metas {
			urls = append(urls, m.URL)
			if m.Source != "https://github.com/org/apps.git" || !strings.HasPrefix(m.Revision, "main@sha1:") || m.Created == "" {
				t.Errorf("metadata %+v", m)
			}
		}
		if got, want := strings.Join(urls, " "), host+"/apps/podinfo:v1.1.0 "+host+"/apps/podinfo:v1.0.0"; got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
	t.Run("list with a regex filter", func(t *testing.T) {
		r := ok(t, "list", "artifacts", url("apps/podinfo"), "--filter-regex", "^v2", creds)
		if n := strings.Count(r.stdout, "\n"); n != 2 || !strings.Contains(r.stdout, ":v2.0.0-rc.1") {
			t.Fatalf("got:\n%s", r.stdout)
		}
	})
	t.Run("pull", func(t *testing.T) {
		out := t.TempDir()
		r := ok(t, "pull", "artifact", url("apps/podinfo:stable"), "-o", out, creds)
		wants(t, "stderr", r.stderr, "► pulling artifact from "+host+"/apps/podinfo:stable\n",
			"✔ source https://github.com/org/apps.git\n", "✔ revision main@sha1:"+strings.Repeat("ab", 20)+"\n",
			"✔ digest "+v1.Digest+"\n", "✔ artifact content extracted to "+out+"\n")
		var files []string
		_ = filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(out, p)
				files = append(files, filepath.ToSlash(rel))
			}
			return nil
		})
		if got := strings.Join(files, " "); got != "app.yaml sub/x.yaml" {
			t.Fatalf("pulled files %q, want app.yaml and sub/x.yaml (no .git, no README.md)", got)
		}
	})

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"pull into a missing directory", []string{"pull", "artifact", url("apps/podinfo:v1.0.0"), "-o", filepath.Join(src, "nope"), creds}, "invalid output path"},
		{"pull of a missing tag", []string{"pull", "artifact", url("apps/podinfo:v9"), "-o", t.TempDir(), creds}, "v9"},
		{"URL without scheme", []string{"list", "artifacts", host + "/apps/podinfo", creds}, "it must be in format 'oci://<domain>/<org>/<repo>'"},
		{"credentials in the URL", []string{"pull", "artifact", "oci://" + user + ":" + password + "@" + host + "/apps/podinfo", "-o", t.TempDir()}, "credentials must not be part of the URL"},
		{"push without source", []string{"push", "artifact", url("apps/podinfo:x"), "--path", dir, "--revision", "r", creds}, "--source is required"},
		{"push to a digest", []string{"push", "artifact", url("apps/podinfo@sha256:" + strings.Repeat("0", 64)), "--path", dir, "--source", "s", "--revision", "r", creds}, "push to a tag"},
		{"tag without --tag", []string{"tag", "artifact", url("apps/podinfo:v1.0.0"), creds}, "--tag is required"},
		{"bad annotation", []string{"push", "artifact", url("apps/podinfo:x"), "--path", dir, "--source", "s", "--revision", "r", "-a", "novalue", creds}, `invalid annotation "novalue"`},
		{"unsupported provider", []string{"list", "artifacts", url("apps/podinfo"), "--provider", "aws"}, "--provider=aws is not supported"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := flux(t, tt.args...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1", r.code)
			}
			wants(t, "stderr", r.stderr, "✗ ", tt.want)
		})
	}
}
