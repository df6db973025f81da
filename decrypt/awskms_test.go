package decrypt

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/getsops/sops/v3/keys"
	"github.com/getsops/sops/v3/kms"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/internal/testing/kmsserver"
)

// TestDecryptAWSKMS decrypts documents whose data key is encrypted with AWS KMS, against the
// local-kms emulator: with the sops.aws-kms credentials of the decryption Secret, with the
// controller's own identity (the SDK's default chain, here the environment), and refused when
// the key is disabled or the encryption context does not match. Not parallel: the KMS
// endpoint is process environment (AWS_ENDPOINT_URL_KMS), as it would be for a controller
// using a VPC endpoint.
func TestDecryptAWSKMS(t *testing.T) {
	srv := kmsserver.Start(t)
	t.Setenv("AWS_ENDPOINT_URL_KMS", srv.Endpoint())
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(v, "")
	}
	const accessKey, secretKey = "AKIAGOTKTEST", "aws-secret-key-s3cret"
	creds := credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")
	client := awskms.New(awskms.Options{Region: kmsserver.Region, Credentials: creds, BaseEndpoint: aws.String(srv.Endpoint())})
	newKey := func() string {
		out, err := client.CreateKey(context.Background(), &awskms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		return *out.KeyMetadata.Arn
	}
	kmsKey := func(arn string, context map[string]*string) keys.MasterKey {
		mk := kms.NewMasterKey(arn, "", context)
		kms.NewCredentialsProvider(creds).ApplyToMasterKey(mk)
		return mk
	}
	arn, disabledARN := newKey(), newKey()
	team := "platform"
	enc := encrypt(t, "secret.yaml", []byte(secretYAML), "^(data|stringData)$", kmsKey(arn, nil))
	withContext := encrypt(t, "secret.yaml", []byte(secretYAML), "^(data|stringData)$", kmsKey(arn, map[string]*string{"team": &team}))
	disabled := encrypt(t, "secret.yaml", []byte(secretYAML), "^(data|stringData)$", kmsKey(disabledARN, nil))
	if _, err := client.DisableKey(context.Background(), &awskms.DisableKeyInput{KeyId: &disabledARN}); err != nil {
		t.Fatal(err)
	}
	// A context the document does not carry: KMS refuses the ciphertext.
	tampered := strings.Replace(string(withContext), "team: platform", "team: other", 1)
	if tampered == string(withContext) {
		t.Fatalf("no encryption context in:\n%s", withContext)
	}
	secretEntry := []byte("aws_access_key_id: " + accessKey + "\naws_secret_access_key: " + secretKey + "\n")

	decryptOne := func(t *testing.T, doc []byte, secret map[string][]byte) error {
		t.Helper()
		d, err := NewDecryptor(secret)
		if err != nil {
			t.Fatal(err)
		}
		obj := toObject(t, doc)
		if err := d.DecryptObjects([]*unstructured.Unstructured{obj}); err != nil {
			return err
		}
		if got, _, _ := unstructured.NestedString(obj.Object, "stringData", "token"); got != "s3cr3t-t0ken" {
			t.Fatalf("stringData.token = %q after decryption", got)
		}
		return nil
	}
	t.Run("secret credentials", func(t *testing.T) {
		if err := decryptOne(t, enc, map[string][]byte{AWSKMSKey: secretEntry}); err != nil {
			t.Fatal(err)
		}
		if err := decryptOne(t, withContext, map[string][]byte{AWSKMSKey: secretEntry}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("controller identity", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", accessKey)
		t.Setenv("AWS_SECRET_ACCESS_KEY", secretKey)
		if err := decryptOne(t, enc, nil); err != nil {
			t.Fatal(err)
		}
	})
	for _, tc := range []struct {
		name string
		doc  []byte
		want []string
	}{
		{"disabled key", disabled, []string{"AWS KMS key " + disabledARN, "disabled"}},
		{"wrong encryption context", []byte(tampered), []string{"AWS KMS key " + arn + "|team:other", "InvalidCiphertext"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := decryptOne(t, tc.doc, map[string][]byte{AWSKMSKey: secretEntry})
			if err == nil {
				t.Fatal("decrypted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secretKey) {
				t.Errorf("error leaks the secret key: %v", err)
			}
		})
	}
	t.Run("bad credentials entry", func(t *testing.T) {
		_, err := NewDecryptor(map[string][]byte{AWSKMSKey: []byte("aws_secret_access_key: " + secretKey + "\n")})
		if err == nil || !strings.Contains(err.Error(), "needs aws_access_key_id") || strings.Contains(err.Error(), secretKey) {
			t.Fatalf("error %v", err)
		}
	})
}
