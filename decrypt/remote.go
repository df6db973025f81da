package decrypt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/getsops/sops/v3/logging"
	"github.com/sirupsen/logrus"
	"sigs.k8s.io/yaml"
)

// The decryption Secret entries holding credentials for remote master keys, with upstream
// Flux's names.
const (
	// VaultTokenKey holds a Vault token for hc_vault keys (Vault or OpenBao transit).
	VaultTokenKey = "sops.vault-token"
	// AWSKMSKey holds static AWS credentials for kms keys, as YAML with aws_access_key_id,
	// aws_secret_access_key and the optional aws_session_token. Without it, kms keys are
	// decrypted with the controller's own AWS identity (environment, web identity token,
	// instance metadata: the SDK's default chain).
	AWSKMSKey = "sops.aws-kms"
	// GCPKMSKey holds a Google service account key (JSON) for gcp_kms keys. Without it,
	// gcp_kms keys are decrypted with the controller's own Google identity (application
	// default credentials, workload identity).
	GCPKMSKey = "sops.gcp-kms"
	// AzureKVKey holds an Azure identity for azure_kv keys, as JSON or YAML: a service
	// principal with a secret or a certificate, `az` output, or a managed identity's client
	// ID (see remote_azurekv.go). Without it, azure_kv keys are decrypted with the
	// controller's own identity (azidentity's default chain: workload identity).
	AzureKVKey = "sops.azure-kv"
)

// remoteTimeout bounds one call to a key service: a data key decryption is one request.
const remoteTimeout = 30 * time.Second

// callKeyService runs one data key decryption (a sops master key's DecryptContext) within
// remoteTimeout, folding the key service's error into one line.
func callKeyService(decrypt func(context.Context) ([]byte, error)) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
	defer cancel()
	plain, err := decrypt(ctx)
	if err != nil {
		return nil, errors.New(oneLine(err.Error()))
	}
	return plain, nil
}

func init() {
	// sops' key sources log every decryption at info level on their own loggers; the
	// controller reports failures itself, with the object's name.
	logging.SetLevel(logrus.WarnLevel)
}

// awsCredentialsFile is the content of a sops.aws-kms entry.
type awsCredentialsFile struct {
	AccessKeyID     string `json:"aws_access_key_id"`
	SecretAccessKey string `json:"aws_secret_access_key"`
	SessionToken    string `json:"aws_session_token"`
}

// parseAWSCredentials reads a sops.aws-kms entry without ever quoting it.
func parseAWSCredentials(data []byte) (aws.CredentialsProvider, error) {
	var c awsCredentialsFile
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, fmt.Errorf("entry '%s' is not YAML with aws_access_key_id, aws_secret_access_key and aws_session_token", AWSKMSKey)
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return nil, fmt.Errorf("entry '%s' needs aws_access_key_id and aws_secret_access_key", AWSKMSKey)
	}
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken), nil
}

func stringPointers(m map[string]string) map[string]*string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = &v
	}
	return out
}

var (
	spaces = regexp.MustCompile(`\s+`)
	// azureRule is the line of dashes the Azure SDK puts around a response in its errors.
	azureRule = regexp.MustCompile(`-{8,}`)
)

// oneLine folds the multi-line errors of the Vault client into one condition-friendly line.
func oneLine(s string) string { return strings.TrimSpace(spaces.ReplaceAllString(s, " ")) }

// parseGCPCredentials accepts a service account key only: other Google credential types
// (external accounts) name files, URLs or commands the controller would read or run for the
// tenant who wrote the Secret.
func parseGCPCredentials(data []byte) ([]byte, error) {
	var c struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("entry '%s' is not a JSON service account key", GCPKMSKey)
	}
	if c.Type != "service_account" {
		return nil, fmt.Errorf("entry '%s' is of type %q: only service account keys (\"service_account\") are accepted", GCPKMSKey, c.Type)
	}
	return data, nil
}
