package bucket

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/s3server"
)

// TestAWSBucketWithWebIdentity reads a bucket with provider 'aws' and no Secret: the
// controller's IRSA web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE) is exchanged at
// the STS endpoint of spec.sts for the S3 server's credentials. A web identity STS refuses
// leaves the bucket unread, with an error that shows no token.
func TestAWSBucketWithWebIdentity(t *testing.T) {
	s := startS3(t, s3server.Options{})
	seedS3(t, s, "irsa", map[string]string{"a.yaml": "a", "b.yaml": "b"})
	clouds := cloudapi.UseCloudsWith(t, func(c *cloudapi.Clouds) {
		c.AWSOptions.AccessKeyID, c.AWSOptions.SecretAccessKey = s.AccessKey(), s.SecretKey()
	})
	spec := sourcev1.BucketSpec{
		Provider: sourcev1.BucketProviderAmazon, BucketName: "irsa", Endpoint: s.Endpoint(), Region: s.Region(), Insecure: true,
		STS: &sourcev1.BucketSTSSpec{Provider: sourcev1.STSProviderAmazon, Endpoint: clouds.AWS.URL},
	}
	idx, err := indexOf(bucketObject(spec), secrets(nil))
	if err != nil {
		t.Fatal(err)
	}
	if idx.Len() != 2 {
		t.Errorf("indexed %d objects, want 2", idx.Len())
	}
	if c := clouds.AWS.Counts(); c.STS != 1 {
		t.Errorf("STS calls = %d, want 1", c.STS)
	}

	// A token STS does not trust.
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", writeTokenFile(t, "token-of-another-cluster"))
	_, err = indexOf(bucketObject(spec), secrets(nil))
	if err == nil {
		t.Fatal("expected an error")
	}
	for _, want := range []string{"provider 'aws'", "controller's workload identity", "STS at " + clouds.AWS.URL, "Not authorized to perform sts:AssumeRoleWithWebIdentity"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	for _, s := range append(clouds.Secrets(), "token-of-another-cluster") {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error leaks a credential: %v", err)
		}
	}
}

func writeTokenFile(t *testing.T, token string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
