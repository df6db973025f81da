package controller

import (
	"net/url"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/pkg/oci"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// TestOCIRepositoryCloudProxy: spec.proxySecretRef's proxy carries the cloud token
// exchanges (STS and ECR; Entra ID and the ACR exchange) as it carries the pull. With
// credentials the proxy refuses, no cloud is reached and the condition names the proxy's
// refusal without its password; with the right ones every exchange passes through it (the
// proxy counts them per target host) and the pull succeeds.
func TestOCIRepositoryCloudProxy(t *testing.T) {
	const ecr, acr = "444444444444.dkr.ecr.eu-west-1.amazonaws.com", "gotkproxy.azurecr.io"
	const proxyPassword, wrongPassword = "proxy-password-8d1f", "guessed-password-77ae"
	c := startCloudRegistry(t, ecr, acr)
	kc, err := oci.KeychainFromDockerConfigs(dockerConfig(c.reg.Host(), "AWS", c.clouds.RegistryUsers()["AWS"]))
	if err != nil {
		t.Fatal(err)
	}
	pusher, err := oci.NewClient(oci.ClientOptions{Keychain: kc})
	if err != nil {
		t.Fatal(err)
	}
	digest := pushFlux(t, pusher, "oci://"+c.reg.Host()+"/team/app:v1", map[string]string{"app.yaml": "through the proxy"}, oci.PushOptions{})

	// The proxy reaches the registry front under the cloud host names, as a real one
	// resolves them.
	proxy := gitserver.NewProxy(t, gitserver.ProxyOptions{Username: "flux", Password: proxyPassword, Dial: cloudapi.DialContext})
	ns := newNamespace(t)
	createSecret(t, ns, "cloud-ca", "", map[string][]byte{"ca.crt": c.front.CAPEM})
	createSecret(t, ns, "proxy", "", map[string][]byte{"address": []byte(proxy.URL()), "username": []byte("flux"), "password": []byte(proxyPassword)})
	createSecret(t, ns, "wrong-proxy", "", map[string][]byte{"address": []byte(proxy.URL()), "username": []byte("flux"), "password": []byte(wrongPassword)})
	repo := func(name, provider, host, proxySecret string) *sourcev1.OCIRepository {
		obj := newOCIRepository(ns, name, "oci://"+host+"/team/app", func(o *sourcev1.OCIRepository) {
			o.Spec.Provider = provider
			o.Spec.Reference = &sourcev1.OCIRepositoryRef{Tag: "v1"}
			o.Spec.CertSecretRef = &metaRef{Name: "cloud-ca"}
			o.Spec.ProxySecretRef = &metaRef{Name: proxySecret}
		})
		create(t, obj)
		return obj
	}
	awsHost := strings.TrimPrefix(c.clouds.AWS.URL, "http://")
	entra, err := url.Parse(c.clouds.EntraID.URL)
	if err != nil {
		t.Fatal(err)
	}
	secrets := append(c.clouds.Secrets(), proxyPassword, wrongPassword)

	// Wrong proxy credentials: the proxy refuses, no cloud is asked.
	for provider, host := range map[string]string{"aws": ecr, "azure": acr} {
		obj := repo("wrong-"+provider, provider, host, "wrong-proxy")
		waitNotReady(t, obj, sourcev1.AuthenticationFailedReason)
		wantCondition(t, obj, sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.AuthenticationFailedReason,
			"provider '"+provider+"'", "through proxy "+strings.TrimPrefix(proxy.URL(), "http://")+": ", "Proxy Authentication Required")
		wantNoCondition(t, obj, meta.StalledCondition)
		wantNoSecret(t, obj, secrets...)
		c.leaks(t, sourcev1.OCIRepositoryKind, obj)
	}
	if a, e := c.clouds.AWS.Counts(), c.clouds.EntraID.Counts(); a.STS != 0 || a.ECR != 0 || e.EntraID != 0 || c.front.Counts().ACRExchange != 0 {
		t.Errorf("a cloud was reached around the refusing proxy: %+v %+v %+v", a, e, c.front.Counts())
	}
	if proxy.Denied() == 0 || proxy.ServedTo(awsHost) != 0 || proxy.ServedTo(entra.Host) != 0 {
		t.Errorf("the proxy must have refused every exchange (denied %d, served to AWS %d, to Entra ID %d)",
			proxy.Denied(), proxy.ServedTo(awsHost), proxy.ServedTo(entra.Host))
	}

	// The right credentials: the exchanges and the pull pass through the proxy.
	for provider, host := range map[string]string{"aws": ecr, "azure": acr} {
		obj := repo(provider, provider, host, "proxy")
		waitRevision(t, obj, "v1@"+digest)
		wantFiles(t, artifactFiles(t, obj), map[string]tarEntry{"app.yaml": "through the proxy"})
	}
	if a := c.clouds.AWS.Counts(); a.STS != 1 || a.ECR != 1 {
		t.Errorf("one STS and one ECR call expected: %+v", a)
	}
	for what, hostPort := range map[string]string{
		"STS and ECR": awsHost, "Microsoft Entra ID": entra.Host, "the ACR exchange and pull": acr + ":443", "the ECR pull": ecr + ":443",
	} {
		if proxy.ServedTo(hostPort) == 0 {
			t.Errorf("%s (%s) bypassed spec.proxySecretRef's proxy", what, hostPort)
		}
	}
	if n := proxy.ServedTo(awsHost); n != 2 {
		t.Errorf("STS and ECR through the proxy = %d requests, want 2", n)
	}
}
