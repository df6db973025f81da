package controller

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	helmreg "helm.sh/helm/v3/pkg/registry"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/helmrepo"
	"gotk.dev/internal/testing/logcapture"
	"gotk.dev/internal/testing/registry"
	"gotk.dev/pkg/oci"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// cloudRegistry is a real distribution registry whose htpasswd accepts exactly the
// credentials the fake clouds issue, reached under cloud registry host names through an
// HTTPS front (which also serves ACR's token exchange).
type cloudRegistry struct {
	// logMark is where the controllers' log stood when the clouds started.
	logMark logcapture.Mark
	clouds  *cloudapi.Clouds
	reg     *registry.Registry
	front   *cloudapi.Front
}

func startCloudRegistry(t *testing.T, hosts ...string) *cloudRegistry {
	t.Helper()
	mark := suiteEnv.logs.Mark()
	clouds := cloudapi.UseClouds(t)
	reg, err := registry.Start(registry.Options{Users: clouds.RegistryUsers()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	front := cloudapi.StartFront(t, "http://"+reg.Host(), hosts...)
	front.ACRAccessToken, front.ACRRefreshToken = clouds.EntraID.AccessToken, clouds.ACRRefreshToken
	return &cloudRegistry{logMark: mark, clouds: clouds, reg: reg, front: front}
}

// leaks fails the test when a condition or an event of the object, or any line the
// controllers logged (at trace level) since the clouds started, shows a credential.
func (c *cloudRegistry) leaks(t *testing.T, kind string, obj interface {
	GetConditions() []metav1.Condition
	GetNamespace() string
	GetName() string
}) {
	t.Helper()
	wantNoSecret(t, obj, c.clouds.Secrets()...)
	suiteEnv.logs.NoSecrets(t, c.logMark, []string{obj.GetName()}, c.clouds.Secrets()...)
	for _, ev := range suiteEnv.events.Of(kind, obj.GetNamespace(), obj.GetName(), "") {
		for _, s := range c.clouds.Secrets() {
			if strings.Contains(ev.Message, s) {
				t.Errorf("event %s leaks a credential: %q", ev.Reason, ev.Message)
			}
		}
	}
}

// TestOCIRepositoryCloudProviders pulls with spec.provider aws, azure and gcp through the
// controller's workload identity (IRSA web identity -> STS -> ECR; Azure workload identity
// -> Entra ID -> ACR token exchange; the GKE metadata server) from a registry that accepts
// only the credentials those logins produce; tokens are cached across objects; a refusing
// cloud, a host the provider cannot serve and spec.serviceAccountName without the
// ObjectLevelWorkloadIdentity gate each get a clear condition without any credential.
func TestOCIRepositoryCloudProviders(t *testing.T) {
	const ecr, acr, gar = "111111111111.dkr.ecr.eu-west-1.amazonaws.com", "gotkoci.azurecr.io", "europe-west1-docker.pkg.dev"
	c := startCloudRegistry(t, ecr, acr, gar)
	users := c.clouds.RegistryUsers()
	kc, err := oci.KeychainFromDockerConfigs(dockerConfig(c.reg.Host(), "AWS", users["AWS"]))
	if err != nil {
		t.Fatal(err)
	}
	pusher, err := oci.NewClient(oci.ClientOptions{Keychain: kc})
	if err != nil {
		t.Fatal(err)
	}
	digest := pushFlux(t, pusher, "oci://"+c.reg.Host()+"/team/app:v1", map[string]string{"app.yaml": "from the cloud"}, oci.PushOptions{})

	ns := newNamespace(t)
	createSecret(t, ns, "cloud-ca", "", map[string][]byte{"ca.crt": c.front.CAPEM})
	repo := func(name, provider, host string, mutate func(*sourcev1.OCIRepository)) *sourcev1.OCIRepository {
		return newOCIRepository(ns, name, "oci://"+host+"/team/app", func(o *sourcev1.OCIRepository) {
			o.Spec.Provider = provider
			o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
			o.Spec.CertSecretRef = &metaRef{Name: "cloud-ca"}
			if mutate != nil {
				mutate(o)
			}
		})
	}
	for _, tc := range []struct{ provider, host string }{{"aws", ecr}, {"azure", acr}, {"gcp", gar}} {
		obj := repo(tc.provider, tc.provider, tc.host, nil)
		create(t, obj)
		waitRevision(t, obj, "v1@"+digest)
		wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"app.yaml": "from the cloud"})
	}
	// A second object on the same registry takes the cached credentials.
	before := c.clouds.AWS.Counts()
	second := repo("aws-again", "aws", ecr, nil)
	create(t, second)
	waitRevision(t, second, "v1@"+digest)
	if after := c.clouds.AWS.Counts(); after != before || after.ECR != 1 || after.STS != 1 {
		t.Errorf("ECR logins must be cached: before %+v, after %+v", before, after)
	}
	if n := c.front.Counts().ACRExchange; n != 1 {
		t.Errorf("ACR exchanges = %d, want 1", n)
	}

	// A host the provider cannot log in to: stalled until the spec changes.
	wrongHost := repo("aws-on-acr", "aws", acr, nil)
	create(t, wrongHost)
	waitNotReady(t, wrongHost, sourcev1.InvalidProviderConfigurationReason)
	wantCondition(t, wrongHost, meta.StalledCondition, metav1.ConditionTrue, sourcev1.InvalidProviderConfigurationReason,
		"provider 'aws' cannot log in to registry '"+acr+"'", "Amazon ECR")

	// spec.serviceAccountName asks for the object's own identity: the gate is off here.
	withSA := repo("gcp-with-sa", "gcp", gar, func(o *sourcev1.OCIRepository) { o.Spec.ServiceAccountName = "tenant" })
	create(t, withSA)
	waitNotReady(t, withSA, meta.FeatureGateDisabledReason)
	wantCondition(t, withSA, meta.StalledCondition, metav1.ConditionTrue, meta.FeatureGateDisabledReason, "ObjectLevelWorkloadIdentity")

	// A cloud that refuses: retried (not stalled), naming provider, identity and endpoint.
	c.clouds.Metadata.Refuse.Store(true)
	refused := repo("gcp-refused", "gcp", "us-docker.pkg.dev", nil)
	create(t, refused)
	waitNotReady(t, refused, sourcev1.AuthenticationFailedReason)
	wantCondition(t, refused, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.AuthenticationFailedReason,
		"provider 'gcp'", "controller's workload identity", "metadata server ("+c.clouds.Metadata.Host+")", "403")
	wantNoCondition(t, refused, meta.StalledCondition)

	for _, obj := range []*sourcev1.OCIRepository{wrongHost, withSA, refused} {
		c.leaks(t, sourcev1.OCIRepositoryKind, obj)
	}
}

// TestHelmChartCloudProvider pulls a chart through an OCI HelmRepository with
// spec.provider aws and azure: the controller's identity logs in to ECR and ACR.
func TestHelmChartCloudProvider(t *testing.T) {
	const ecr, acr = "222222222222.dkr.ecr.us-east-1.amazonaws.com", "gotkcharts.azurecr.io"
	c := startCloudRegistry(t, ecr, acr)
	chart := helmrepo.Package(t, helmrepo.PodinfoDir(), "", "6.0.1")
	helmrepo.PushChart(t, c.reg.Host(), "charts", chart, helmreg.ClientOptBasicAuth("AWS", c.clouds.RegistryUsers()["AWS"]),
		helmreg.ClientOptPlainHTTP(), helmreg.ClientOptHTTPClient(http.DefaultClient))

	ns := newNamespace(t)
	createSecret(t, ns, "cloud-ca", "", map[string][]byte{"ca.crt": c.front.CAPEM})
	for provider, host := range map[string]string{"aws": ecr, "azure": acr} {
		create(t, newHelmRepository(ns, provider, "oci://"+host+"/charts", func(o *sourcev1.HelmRepository) {
			o.Spec.Type = sourcev1.HelmRepositoryTypeOCI
			o.Spec.Provider = provider
			o.Spec.CertSecretRef = &metaRef{Name: "cloud-ca"}
		}))
		obj := newHelmChart(ns, provider, sourcev1.HelmRepositoryKind, provider, "podinfo", nil)
		create(t, obj)
		waitRevision(t, obj, "6.0.1")
		if !bytes.Equal(download(t, obj.Status.Artifact), chart) {
			t.Errorf("%s: the stored chart is not the pushed archive", provider)
		}
	}

	// An ECR that refuses the role: a retried failure naming the operation.
	c.clouds.AWS.RefuseECR.Store(true)
	create(t, newHelmRepository(ns, "refused", "oci://333333333333.dkr.ecr.us-east-1.amazonaws.com/charts", func(o *sourcev1.HelmRepository) {
		o.Spec.Type = sourcev1.HelmRepositoryTypeOCI
		o.Spec.Provider = "aws"
	}))
	refused := newHelmChart(ns, "refused", sourcev1.HelmRepositoryKind, "refused", "podinfo", nil)
	create(t, refused)
	waitNotReady(t, refused, sourcev1.AuthenticationFailedReason)
	wantCondition(t, refused, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.AuthenticationFailedReason,
		"provider 'aws'", "ECR GetAuthorizationToken in us-east-1", "AccessDeniedException")
	wantNoCondition(t, refused, meta.StalledCondition)
	c.leaks(t, sourcev1.HelmChartKind, refused)
}
