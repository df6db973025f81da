package controller

import (
	"bytes"
	"context"
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/reconcile"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestOverflowingDuration: a GitRepository whose timeout matches the CRD's pattern but does
// not fit a duration stalls on its own with a condition naming the field; the GitRepository
// created after it (so the controller's cache must have read past it) gets its artifact.
func TestOverflowingDuration(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("app").File("app.yaml", "app").MustDo(t)
	ns := newNamespace(t)
	bad := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": sourcev1.GroupVersion.String(), "kind": sourcev1.GitRepositoryKind,
		"metadata": map[string]any{"name": "overflow", "namespace": ns},
		"spec": map[string]any{"url": url, "interval": "1m", "timeout": "9999999999999999999m",
			"ref": map[string]any{"branch": "main"}},
	}}
	if err := suiteEnv.env.Client.Create(context.Background(), bad); err != nil {
		t.Fatalf("the API server refused the overflowing timeout: %v", err)
	}
	healthy := newGitRepository(ns, "healthy", url, func(o *sourcev1.GitRepository) { o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"} })
	create(t, healthy)
	waitReady(t, healthy)
	eventually(t, "the overflowing GitRepository stalled", func() bool {
		if err := suiteEnv.env.Client.Get(context.Background(), client.ObjectKeyFromObject(bad), bad); err != nil {
			return false
		}
		conds, _, _ := unstructured.NestedSlice(bad.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == meta.StalledCondition && m["reason"] == reconcile.InvalidSpecReason &&
				strings.Contains(fmt.Sprint(m["message"]), "spec.timeout") {
				return true
			}
		}
		return false
	})
}

// TestShellMetacharactersNeverRun feeds shell command substitutions, backticks and ';' through
// every credential field and the URLs of Git and OCI sources (CVE-2021-41254 class): whatever
// the outcome of each fetch, no command runs.
func TestShellMetacharactersNeverRun(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "pwned")
	payloads := []string{
		"$(touch " + marker + ")",
		"`touch " + marker + "`",
		"x; touch " + marker,
		"x && touch " + marker + " #",
		"x\ntouch " + marker,
	}
	srv := gitserver.New(t, gitserver.Options{Username: "git", Password: "right"})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("app").File("app.yaml", "app").MustDo(t)
	ns := newNamespace(t)
	var objs []sourceObject
	for i, p := range payloads {
		for field, data := range map[string]map[string][]byte{
			"password":    {"username": []byte("git"), "password": []byte(p)},
			"username":    {"username": []byte(p), "password": []byte("right")},
			"bearer":      {"bearerToken": []byte(p)},
			"identity":    {"identity": []byte(p), "known_hosts": []byte(p)},
			"dockerauths": {".dockerconfigjson": []byte(`{"auths":{"127.0.0.1":{"username":"u","password":` + strconv.Quote(p) + `}}}`)},
		} {
			name := fmt.Sprintf("%s-%d", field, i)
			typ := corev1.SecretTypeOpaque
			if field == "dockerauths" {
				typ = corev1.SecretTypeDockerConfigJson
			}
			createSecret(t, ns, name, typ, data)
			var o sourceObject
			switch field {
			case "identity":
				o = newGitRepository(ns, name, strings.Replace(url, "http://", "ssh://git@", 1), func(r *sourcev1.GitRepository) {
					r.Spec.SecretRef = &meta.LocalObjectReference{Name: name}
				})
			case "dockerauths":
				o = newOCIRepository(ns, name, "oci://127.0.0.1:1/app", func(r *sourcev1.OCIRepository) {
					r.Spec.SecretRef = &meta.LocalObjectReference{Name: name}
				})
			default:
				o = newGitRepository(ns, name, url, func(r *sourcev1.GitRepository) {
					r.Spec.SecretRef = &meta.LocalObjectReference{Name: name}
				})
			}
			create(t, o)
			objs = append(objs, o)
		}
		// The payload in the URL itself (its path), escaped as a URL would carry it.
		o := newGitRepository(ns, fmt.Sprintf("url-%d", i), url+"/"+neturl.PathEscape(p), nil)
		create(t, o)
		objs = append(objs, o)
	}
	for _, o := range objs {
		eventually(t, o.GetName()+" reconciled", func() bool {
			get(t, o)
			return reconcile.GetCondition(o, meta.ReadyCondition) != nil
		})
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("a credential or URL was run by a shell: %s exists (%v)", marker, err)
	}
}

// TestTamperedArtifactRebuilt: an artifact changed on disk after it was stored never reaches
// a consumer (the server checks the digest before serving, the consumer after), and the next reconcile of its source detects it,
// removes it and stores the revision again, which consumers then accept.
func TestTamperedArtifactRebuilt(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	url, err := srv.InitRepo("app")
	if err != nil {
		t.Fatal(err)
	}
	srv.Commit("app").File("app.yaml", "kind: ConfigMap\n").MustDo(t)
	ns := newNamespace(t)
	obj := newGitRepository(ns, "app", url, func(o *sourcev1.GitRepository) { o.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: "main"} })
	create(t, obj)
	waitReady(t, obj)
	stored := obj.Status.Artifact.DeepCopy()

	// Same size, other bytes: only the digest tells.
	path := suiteEnv.storage.LocalPath(stored)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	evil := bytes.Repeat([]byte{'x'}, len(data))
	if err := os.WriteFile(path, evil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The artifact server refuses to serve it, and a consumer would refuse its digest.
	fetcher := &artifact.Fetcher{}
	if err := fetcher.Fetch(context.Background(), stored.URL, stored.Digest, t.TempDir()); err == nil {
		t.Fatal("a consumer accepted the tampered artifact")
	}

	requestReconcile(t, obj)
	eventually(t, "the artifact rebuilt", func() bool {
		get(t, obj)
		a := obj.Status.Artifact
		if a == nil || a.Revision != stored.Revision {
			return false
		}
		got, err := os.ReadFile(suiteEnv.storage.LocalPath(a))
		return err == nil && !bytes.Equal(got, evil)
	})
	if err := fetcher.Fetch(context.Background(), obj.Status.Artifact.URL, obj.Status.Artifact.Digest, t.TempDir()); err != nil {
		t.Errorf("the rebuilt artifact is refused: %v", err)
	}
	if obj.Status.Artifact.Digest != stored.Digest {
		t.Errorf("rebuilt digest %s differs from the original %s: the build is not reproducible", obj.Status.Artifact.Digest, stored.Digest)
	}
}
