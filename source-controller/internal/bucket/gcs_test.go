package bucket

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/bucket/provider"
)

// The gcp provider runs against fake-gcs-server (github.com/fsouza/fake-gcs-server, the
// Cloud Storage emulator, in-process on 127.0.0.1) and authenticates with a service account
// key whose token endpoint is a local OAuth 2.0 server that checks the signed JWT assertion.

// startGCS serves bucket with files on a fresh emulator and returns its endpoint.
func startGCS(t *testing.T, bucket string, files map[string]string) (*fakestorage.Server, string) {
	t.Helper()
	var objects []fakestorage.Object
	for k, v := range files {
		objects = append(objects, fakestorage.Object{
			ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: k},
			Content:     []byte(v),
		})
	}
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		InitialObjects: objects, Scheme: "http", Host: "127.0.0.1", NoListener: false,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	return srv, strings.TrimPrefix(srv.URL(), "http://")
}

// tokenServer is an OAuth 2.0 token endpoint for the JWT bearer grant. It verifies the
// assertion's RS256 signature with pub and counts the tokens it issued.
func tokenServer(t *testing.T, pub *rsa.PublicKey) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var issued atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.Form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		parts := strings.Split(r.Form.Get("assertion"), ".")
		if len(parts) != 3 {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil {
			http.Error(w, `{"error":"invalid_grant","error_description":"bad signature"}`, http.StatusBadRequest)
			return
		}
		issued.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"test-access-token","token_type":"Bearer","expires_in":3600}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &issued
}

// serviceAccountKey returns a service account key JSON (as Google issues them) for key, with
// its token endpoint at tokenURL.
func serviceAccountKey(t *testing.T, key *rsa.PrivateKey, tokenURL string) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "gotk-test",
		"private_key_id": "0123456789abcdef",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "flux@gotk-test.iam.gserviceaccount.com",
		"client_id":      "1234567890",
		"token_uri":      tokenURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGCS(t *testing.T) {
	files := map[string]string{
		"deploy/app.yaml": "kind: ConfigMap\n",
		"deploy/logo.png": "png",
		"docs/readme.md":  "docs",
		".sourceignore":   "docs/\n",
	}
	gcs, endpoint := startGCS(t, "gcs-bucket", files)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tokens, issued := tokenServer(t, &key.PublicKey)
	saKey := serviceAccountKey(t, key, tokens.URL)

	cfg := Config{Provider: sourcev1.BucketProviderGoogle, Options: provider.Options{
		Bucket: "gcs-bucket", Endpoint: endpoint, Insecure: true, Timeout: 30 * time.Second,
		Secret: map[string][]byte{"serviceaccount": saKey},
	}}

	t.Run("service account key", func(t *testing.T) {
		c := openClient(t, cfg)
		idx, err := c.Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"deploy/app.yaml": files["deploy/app.yaml"]}
		if got := strings.Join(idx.Keys(), ","); got != "deploy/app.yaml" {
			t.Fatalf("keys = %s (.sourceignore, default exclusions)", got)
		}
		attrs, err := gcs.GetObject("gcs-bucket", "deploy/app.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := idx.Get("deploy/app.yaml"); o.ETag == "" || o.ETag != attrs.Etag || o.Size != int64(len(want["deploy/app.yaml"])) {
			t.Errorf("object %+v, emulator ETag %q", o, attrs.Etag)
		}
		if got, wantRev := idx.Revision(), wantRevision(want, func(string) string { return attrs.Etag }); got != wantRev {
			t.Errorf("revision %s, want %s", got, wantRev)
		}
		dir := t.TempDir()
		if err := c.Download(context.Background(), idx, dir, DownloadOptions{}); err != nil {
			t.Fatal(err)
		}
		equalTrees(t, readTree(t, dir), want)
		if issued.Load() == 0 {
			t.Error("no token was requested with the service account key")
		}
	})

	t.Run("prefix", func(t *testing.T) {
		pcfg := cfg
		pcfg.Prefix = "deploy/"
		pcfg.Ignore = ptr("") // replaces the default exclusions: the .png is selected
		idx, err := openClient(t, pcfg).Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(idx.Keys(), ","); got != "deploy/app.yaml,deploy/logo.png" {
			t.Errorf("keys = %s", got)
		}
	})

	t.Run("application default credentials", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sa.json")
		if err := os.WriteFile(path, saKey, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", path)
		dcfg := cfg
		dcfg.Options.Secret = nil
		before := issued.Load()
		idx, err := openClient(t, dcfg).Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if idx.Len() != 1 || issued.Load() == before {
			t.Errorf("indexed %d objects, %d new tokens", idx.Len(), issued.Load()-before)
		}
	})

	t.Run("key the token endpoint rejects", func(t *testing.T) {
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		bcfg := cfg
		bcfg.Options.Secret = map[string][]byte{"serviceaccount": serviceAccountKey(t, other, tokens.URL)}
		_, err := openClient(t, bcfg).Index(context.Background())
		if err == nil || !strings.Contains(err.Error(), "bucket 'gcs-bucket' at "+endpoint) {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("error leaks the key: %v", err)
		}
	})

	t.Run("secret without serviceaccount", func(t *testing.T) {
		bcfg := cfg
		bcfg.Options.Secret = map[string][]byte{"other": []byte("x")}
		_, err := Open(context.Background(), bcfg)
		if err == nil || !strings.Contains(err.Error(), "'serviceaccount'") || ReasonOf(err) != sourcev1.AuthenticationFailedReason {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("not a service account key", func(t *testing.T) {
		bcfg := cfg
		bcfg.Options.Secret = map[string][]byte{"serviceaccount": []byte(`{"type":"external_account","audience":"x","subject_token_type":"y","credential_source":{"executable":{"command":"/bin/true"}}}`)}
		_, err := Open(context.Background(), bcfg)
		if err == nil || ReasonOf(err) != sourcev1.AuthenticationFailedReason {
			t.Errorf("external account accepted: %v", err)
		}
	})

	t.Run("missing bucket", func(t *testing.T) {
		mcfg := cfg
		mcfg.Options.Bucket = "nope"
		_, err := openClient(t, mcfg).Index(context.Background())
		if err == nil || err.Error() != "bucket 'nope' at "+endpoint+" does not exist" {
			t.Errorf("err = %v", err)
		}
	})
}

func TestGCSMaliciousKeys(t *testing.T) {
	for _, key := range []string{"../escape.yaml", "a/../../escape.yaml", `a\b.yaml`} {
		t.Run(key, func(t *testing.T) {
			_, endpoint := startGCS(t, "evil-gcs", map[string]string{"ok.yaml": "ok", key: "evil"})
			cfg := Config{Provider: sourcev1.BucketProviderGoogle, Options: provider.Options{
				Bucket: "evil-gcs", Endpoint: endpoint, Insecure: true, Timeout: 30 * time.Second,
			}}
			// The emulator accepts any token; default credentials from a throwaway key file.
			k, _ := rsa.GenerateKey(rand.Reader, 2048)
			tokens, _ := tokenServer(t, &k.PublicKey)
			cfg.Options.Secret = map[string][]byte{"serviceaccount": serviceAccountKey(t, k, tokens.URL)}
			_, err := openClient(t, cfg).Index(context.Background())
			assertRefused(t, err, key, "evil-gcs")
		})
	}
}
