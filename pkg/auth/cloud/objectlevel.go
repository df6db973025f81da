package cloud

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The service account annotations that name a cloud identity, as the clouds' workload
// identity webhooks (and upstream Flux) read them.
const (
	AnnotationAWSRoleARN     = "eks.amazonaws.com/role-arn"
	AnnotationAzureClientID  = "azure.workload.identity/client-id"
	AnnotationAzureTenantID  = "azure.workload.identity/tenant-id"
	AnnotationGCPServiceAcct = "iam.gke.io/gcp-service-account"
	// AnnotationGCPWorkloadIdentityProvider names the workload identity pool provider
	// (projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>)
	// that trusts the cluster's service account tokens, for clusters outside GKE.
	AnnotationGCPWorkloadIdentityProvider = "gcp.auth.fluxcd.io/workload-identity-provider"
)

// The audiences of the service account tokens each cloud's token exchange accepts.
const (
	AudienceAWS   = "sts.amazonaws.com"
	AudienceAzure = "api://AzureADTokenExchange"
)

// ErrObjectLevelDisabled is upstream's answer to spec.serviceAccountName on an object with
// a cloud provider while the ObjectLevelWorkloadIdentity feature gate is off.
var ErrObjectLevelDisabled = errors.New("to use spec.serviceAccountName for provider authentication please enable the ObjectLevelWorkloadIdentity feature gate in the controller")

// saTokenSeconds is the lifetime asked for a service account token: it is used at once.
const saTokenSeconds = 600

// objectIdentity is a service account and the cloud identity its annotations name.
type objectIdentity struct {
	namespace, name string
	// roleARN (aws), tenantID and clientID (azure), gcpServiceAccount and gcpProvider (gcp,
	// both optional: without a provider, the GKE cluster's pool).
	roleARN, tenantID, clientID, gcpServiceAccount, gcpProvider string
}

func (o objectIdentity) String() string {
	s := fmt.Sprintf("service account '%s/%s'", o.namespace, o.name)
	switch {
	case o.roleARN != "":
		s += " (role " + o.roleARN + ")"
	case o.clientID != "":
		s += " (client ID " + o.clientID + ", tenant " + o.tenantID + ")"
	case o.gcpServiceAccount != "" && o.gcpProvider != "":
		s += " (Google service account " + o.gcpServiceAccount + ", workload identity provider " + o.gcpProvider + ")"
	case o.gcpServiceAccount != "":
		s += " (Google service account " + o.gcpServiceAccount + ")"
	case o.gcpProvider != "":
		s += " (workload identity provider " + o.gcpProvider + ")"
	}
	return s
}

// objectIdentityFor reads the service account and the annotations provider needs. Errors
// name the missing or invalid annotation; callers wrap them with the identity (id.String()).
func (l *Logins) objectIdentityFor(ctx context.Context, provider, namespace, name string) (objectIdentity, corev1.ServiceAccount, error) {
	id := objectIdentity{namespace: namespace, name: name}
	var sa corev1.ServiceAccount
	if l.Kube == nil {
		return id, sa, fmt.Errorf("object-level workload identity needs an API client")
	}
	if err := l.Kube.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &sa); err != nil {
		return id, sa, fmt.Errorf("failed to read it: %w", err)
	}
	ann := func(k string) string { return strings.TrimSpace(sa.Annotations[k]) }
	switch provider {
	case ProviderAWS:
		if id.roleARN = ann(AnnotationAWSRoleARN); id.roleARN == "" {
			return id, sa, fmt.Errorf("it has no '%s' annotation naming the IAM role to assume", AnnotationAWSRoleARN)
		}
	case ProviderAzure:
		if id.clientID = ann(AnnotationAzureClientID); id.clientID == "" {
			return id, sa, fmt.Errorf("it has no '%s' annotation naming the managed identity or application", AnnotationAzureClientID)
		}
		if id.tenantID = ann(AnnotationAzureTenantID); id.tenantID == "" {
			id.tenantID = os.Getenv("AZURE_TENANT_ID")
		}
		if id.tenantID == "" {
			return id, sa, fmt.Errorf("it has no '%s' annotation and the controller has no AZURE_TENANT_ID", AnnotationAzureTenantID)
		}
	case ProviderGCP:
		id.gcpServiceAccount, id.gcpProvider = ann(AnnotationGCPServiceAcct), ann(AnnotationGCPWorkloadIdentityProvider)
		if err := checkGCPAnnotations(id); err != nil {
			// Callers name the identity: without the bad value, which the error quotes.
			return objectIdentity{namespace: namespace, name: name}, sa, err
		}
	default:
		return id, sa, fmt.Errorf("object-level workload identity for provider '%s' is not supported yet: remove spec.serviceAccountName to use the controller's identity", provider)
	}
	return id, sa, nil
}

// serviceAccountToken asks the API server for a token of sa with audience (TokenRequest).
func (l *Logins) serviceAccountToken(ctx context.Context, id objectIdentity, sa *corev1.ServiceAccount, audience string) (string, error) {
	secs := int64(saTokenSeconds)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: []string{audience}, ExpirationSeconds: &secs}}
	if err := l.Kube.SubResource("token").Create(ctx, sa, tr); err != nil {
		return "", fmt.Errorf("failed to create a token for %s (audience %s): %w", id, audience, err)
	}
	return tr.Status.Token, nil
}

// Identity is a service account and the cloud identity its annotations name, read by
// Identify: what sub-packages exchange the service account's tokens for.
type Identity struct {
	id objectIdentity
	sa corev1.ServiceAccount
}

// String names the identity as errors do ("service account 'ns/name' (...)").
func (i *Identity) String() string { return i.id.String() }

// GCPServiceAccount is the iam.gke.io/gcp-service-account annotation ("" for none).
func (i *Identity) GCPServiceAccount() string { return i.id.gcpServiceAccount }

// GCPWorkloadIdentityProvider is the gcp.auth.fluxcd.io/workload-identity-provider
// annotation ("" for the GKE cluster's pool).
func (i *Identity) GCPWorkloadIdentityProvider() string { return i.id.gcpProvider }

// Identify reads the service account and the annotations provider needs, checked. On error
// the Identity still names the service account; the error says which annotation is missing
// or invalid.
func (l *Logins) Identify(ctx context.Context, provider, namespace, name string) (*Identity, error) {
	id, sa, err := l.objectIdentityFor(ctx, provider, namespace, name)
	return &Identity{id: id, sa: sa}, err
}

// ServiceAccountToken asks the API server for a token of the identity's service account
// with audience (TokenRequest), to present to a cloud's token exchange.
func (l *Logins) ServiceAccountToken(ctx context.Context, id *Identity, audience string) (string, error) {
	return l.serviceAccountToken(ctx, id.id, &id.sa, audience)
}

// IdentityOf names the cloud identity of a service account for provider, as errors name it
// ("service account 'ns/name' (role ...)"): it changes with the annotations, so callers may
// key caches by it. An error says which annotation is missing or invalid; the name is
// returned with it for the caller's error.
func (l *Logins) IdentityOf(ctx context.Context, provider, namespace, name string) (string, error) {
	id, _, err := l.objectIdentityFor(ctx, provider, namespace, name)
	return id.String(), err
}

// staticIdentityToken is a web identity token already in hand.
type staticIdentityToken string

func (t staticIdentityToken) GetIdentityToken() ([]byte, error) { return []byte(t), nil }

var sessionNameUnsafe = regexp.MustCompile(`[^\w+=,.@-]`)

// sessionName names the role session after the service account, so CloudTrail shows which
// object's identity was used (STS allows 64 characters of [\w+=,.@-]).
func sessionName(id objectIdentity) string {
	s := sessionNameUnsafe.ReplaceAllString(id.name+"."+id.namespace+".gotk", "-")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
