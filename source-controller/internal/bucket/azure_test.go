package bucket

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/bucket/provider"

	"gotk.dev/internal/testing/azurite"
)

// The azure provider runs against Azurite, Microsoft's Azure Storage emulator.

func startAzurite(t *testing.T) *azurite.Server {
	t.Helper()
	s, err := azurite.Start(azurite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// seedAzure creates container and uploads files; it returns each blob's ETag as the service
// reports it on upload.
func seedAzure(t *testing.T, s *azurite.Server, container string, files map[string]string) map[string]string {
	t.Helper()
	etags, err := s.PutBlobs(context.Background(), container, files)
	if err != nil {
		t.Fatal(err)
	}
	return etags
}

func azureConfig(s *azurite.Server, container string, secret map[string][]byte) Config {
	return Config{Provider: sourcev1.BucketProviderAzure, Options: provider.Options{
		Bucket: container, Endpoint: s.ServiceURL(), Insecure: true, Timeout: 30 * time.Second, Secret: secret,
	}}
}

// containerSAS signs a container SAS token with the account key.
func containerSAS(t *testing.T, container string, perms sas.ContainerPermissions) string {
	t.Helper()
	cred, err := azblob.NewSharedKeyCredential(azurite.AccountName, azurite.AccountKey)
	if err != nil {
		t.Fatal(err)
	}
	q, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		StartTime:     time.Now().Add(-time.Hour).UTC(),
		ExpiryTime:    time.Now().Add(time.Hour).UTC(),
		Permissions:   perms.String(),
		ContainerName: container,
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	return "?" + q.Encode()
}

func TestAzure(t *testing.T) {
	s := startAzurite(t)
	files := map[string]string{
		"deploy/app.yaml":  "kind: ConfigMap\n",
		"deploy/svc.yaml":  "kind: Service\n",
		"deploy/logo.png":  "png",
		"docs/readme.md":   "docs",
		".sourceignore":    "docs/\n",
		"other/skip.yaml":  "skip",
		"deploy/deep/x.md": "x",
	}
	etags := seedAzure(t, s, "flux", files)
	accountKey := map[string][]byte{"accountKey": []byte(azurite.AccountKey)}

	t.Run("account key", func(t *testing.T) {
		c := openClient(t, azureConfig(s, "flux", accountKey))
		idx, err := c.Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, k := range []string{"deploy/app.yaml", "deploy/svc.yaml", "other/skip.yaml", "deploy/deep/x.md"} {
			want[k] = files[k]
		}
		if got := strings.Join(idx.Keys(), ","); got != strings.Join(sortedKeys(want), ",") {
			t.Fatalf("keys = %s", got)
		}
		if got, wantRev := idx.Revision(), wantRevisionOf(want, etags); got != wantRev {
			t.Errorf("revision %s, want %s", got, wantRev)
		}
		dir := t.TempDir()
		if err := c.Download(context.Background(), idx, dir, DownloadOptions{}); err != nil {
			t.Fatal(err)
		}
		equalTrees(t, readTree(t, dir), want)
	})

	t.Run("prefix", func(t *testing.T) {
		cfg := azureConfig(s, "flux", accountKey)
		cfg.Prefix = "deploy/"
		idx, err := openClient(t, cfg).Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(idx.Keys(), ","); got != "deploy/app.yaml,deploy/deep/x.md,deploy/svc.yaml" {
			t.Errorf("keys = %s", got)
		}
	})

	t.Run("SAS token", func(t *testing.T) {
		token := containerSAS(t, "flux", sas.ContainerPermissions{Read: true, List: true})
		c := openClient(t, azureConfig(s, "flux", map[string][]byte{"sasKey": []byte(token)}))
		idx, err := c.Index(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if idx.Len() != 4 {
			t.Errorf("indexed %d objects", idx.Len())
		}
		if err := c.Download(context.Background(), idx, t.TempDir(), DownloadOptions{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("SAS token without list permission", func(t *testing.T) {
		token := containerSAS(t, "flux", sas.ContainerPermissions{Read: true})
		_, err := openClient(t, azureConfig(s, "flux", map[string][]byte{"sasKey": []byte(token)})).Index(context.Background())
		if err == nil {
			t.Fatal("listing with a read-only SAS succeeded")
		}
		sig := token[strings.Index(token, "sig=")+4:]
		if i := strings.IndexByte(sig, '&'); i >= 0 {
			sig = sig[:i]
		}
		if strings.Contains(err.Error(), sig) {
			t.Errorf("error leaks the SAS signature: %v", err)
		}
		t.Log(err)
	})

	t.Run("wrong account key", func(t *testing.T) {
		wrong := "d3JvbmctYWNjb3VudC1rZXktd3Jvbmctd3Jvbmctd3Jvbmc="
		_, err := openClient(t, azureConfig(s, "flux", map[string][]byte{"accountKey": []byte(wrong)})).Index(context.Background())
		if err == nil || !strings.Contains(err.Error(), "bucket 'flux' at "+s.ServiceURL()) {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), wrong) {
			t.Errorf("error leaks the key: %v", err)
		}
	})

	t.Run("secret without a known key", func(t *testing.T) {
		_, err := Open(context.Background(), azureConfig(s, "flux", map[string][]byte{"token": []byte("x")}))
		if err == nil || ReasonOf(err) != sourcev1.AuthenticationFailedReason || !strings.Contains(err.Error(), "accountKey") {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("missing container", func(t *testing.T) {
		_, err := openClient(t, azureConfig(s, "nope", accountKey)).Index(context.Background())
		if err == nil || err.Error() != "bucket 'nope' at "+s.ServiceURL()+" does not exist" {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("malicious keys", func(t *testing.T) {
		// Azurite stores and lists these names as given (it turns backslashes into slashes).
		for i, key := range []string{"../escape.yaml", "a/../../escape.yaml", "/abs.yaml", "c//d.yaml"} {
			container := "evil" + string(rune('a'+i))
			seedAzure(t, s, container, map[string]string{"ok.yaml": "ok", key: "evil"})
			_, err := openClient(t, azureConfig(s, container, accountKey)).Index(context.Background())
			assertRefused(t, err, key, container)
		}
	})
}

func wantRevisionOf(files, etags map[string]string) string {
	byContent := map[string]string{}
	for k := range files {
		byContent[files[k]] = etags[k]
	}
	return wantRevision(files, func(content string) string { return byContent[content] })
}
