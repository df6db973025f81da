package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/pkg/auth/cloud"
)

// TestImageRepositoryCloudProxy: with a service account's identity, the exchanges with the
// cloud (STS AssumeRoleWithWebIdentity and ECR; Google's STS and IAM Credentials) go
// through spec.proxySecretRef's proxy, as the scan does. Credentials the proxy refuses keep
// every cloud unreached and the condition names the proxy's refusal, never its password.
func TestImageRepositoryCloudProxy(t *testing.T) {
	const ecr, gar = "666666666666.dkr.ecr.eu-north-1.amazonaws.com", "us-central1-docker.pkg.dev"
	const proxyPassword, wrongPassword = "proxy-password-3c9e", "guessed-password-51b0"
	ns := newNamespace(t, nil)
	const roleA, gsaC = "arn:aws:iam::666666666666:role/team-a", "team-c@gotk-test.iam.gserviceaccount.com"
	subject := func(sa string) string { return "system:serviceaccount:" + ns + ":" + sa }
	verify := cloudapi.TokenReviewer(testCtx(t), k8s())
	logMark := suiteEnv.logs.Mark()
	clouds := cloudapi.UseCloudsWith(t, func(c *cloudapi.Clouds) {
		c.AWSOptions.Verify, c.AWSOptions.RoleSubjects = verify, map[string]string{roleA: subject("team-a")}
	})
	google := cloudapi.StartGoogleIAM(t, cloudapi.GoogleIAMOptions{Verify: verify, Pool: "gotk-test.svc.id.goog",
		ServiceAccountSubjects: map[string]string{gsaC: subject("team-c")}, AccessToken: clouds.Metadata.Token})
	front := startCloudRegistry(t, clouds, []string{"1.0.0", "2.0.0"}, ecr, gar)

	proxy := gitserver.NewProxy(t, gitserver.ProxyOptions{Username: "flux", Password: proxyPassword, Dial: cloudapi.DialContext})
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cloud-ca"}, Data: map[string][]byte{"ca.crt": front.CAPEM}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "proxy"}, Data: map[string][]byte{
			"address": []byte(proxy.URL()), "username": []byte("flux"), "password": []byte(proxyPassword)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "wrong-proxy"}, Data: map[string][]byte{
			"address": []byte(proxy.URL()), "username": []byte("flux"), "password": []byte(wrongPassword)}},
	} {
		if err := k8s().Create(testCtx(t), s); err != nil {
			t.Fatal(err)
		}
	}
	for name, ann := range map[string]map[string]string{
		"team-a": {cloud.AnnotationAWSRoleARN: roleA},
		"team-c": {cloud.AnnotationGCPServiceAcct: gsaC},
	} {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: ann}}
		if err := k8s().Create(testCtx(t), sa); err != nil {
			t.Fatal(err)
		}
	}
	as := func(provider, sa, proxySecret string) func(*imagev1.ImageRepository) {
		return func(r *imagev1.ImageRepository) {
			r.Spec.Provider, r.Spec.ServiceAccountName = provider, sa
			r.Spec.CertSecretRef = &meta.LocalObjectReference{Name: "cloud-ca"}
			r.Spec.ProxySecretRef = &meta.LocalObjectReference{Name: proxySecret}
		}
	}
	leaks := leakCheck(t, logMark, func() []string { return append(clouds.Secrets(), proxyPassword, wrongPassword) })
	noProxyPassword := func(r *imagev1.ImageRepository) {
		t.Helper()
		var msgs []string
		for _, c := range r.Status.Conditions {
			msgs = append(msgs, c.Message)
		}
		for _, ev := range suiteEnv.events.Of(imagev1.ImageRepositoryKind, r.Namespace, r.Name, "") {
			msgs = append(msgs, ev.Message)
		}
		for _, m := range msgs {
			if strings.Contains(m, proxyPassword) || strings.Contains(m, wrongPassword) {
				t.Errorf("%s leaks the proxy password: %q", r.Name, m)
			}
		}
	}

	// Credentials the proxy refuses: no cloud is reached.
	proxyHost := strings.TrimPrefix(proxy.URL(), "http://")
	wrongA := newRepository(t, ns, "wrong-a", ecr+"/team/app", as("aws", "team-a", "wrong-proxy"))
	wrongC := newRepository(t, ns, "wrong-c", gar+"/team/app", as("gcp", "team-c", "wrong-proxy"))
	deleteAtEnd(t, wrongA, wrongC)
	for _, r := range []*imagev1.ImageRepository{wrongA, wrongC} {
		r = waitFor(t, r, time.Minute, authFailed("provider '"+r.Spec.Provider+"'", "service account '"+ns+"/"+r.Spec.ServiceAccountName+"'",
			"through proxy "+proxyHost+": ", "Proxy Authentication Required"))
		leaks(r)
		noProxyPassword(r)
	}
	if a, g := clouds.AWS.Counts(), google.Counts(); a.STS != 0 || a.ECR != 0 || g.GoogleSTS != 0 || g.GoogleIAM != 0 || proxy.Denied() == 0 {
		t.Errorf("a cloud was reached around the refusing proxy: %+v %+v (proxy denied %d)", a, g, proxy.Denied())
	}

	// The right credentials: every exchange passes through the proxy.
	scanned := func(r *imagev1.ImageRepository) error {
		if err := readyIs[*imagev1.ImageRepository](metav1.ConditionTrue, meta.SucceededReason)(r); err != nil {
			return err
		}
		if res := r.Status.LastScanResult; res == nil || res.TagCount != 2 {
			return fmt.Errorf("last scan result = %+v, want 2 tags", res)
		}
		return nil
	}
	waitFor(t, newRepository(t, ns, "team-a", ecr+"/team/app", as("aws", "team-a", "proxy")), time.Minute, scanned)
	waitFor(t, newRepository(t, ns, "team-c", gar+"/team/app", as("gcp", "team-c", "proxy")), time.Minute, scanned)
	if a, g := clouds.AWS.Counts(), google.Counts(); a.STS != 1 || a.ECR != 1 || g.GoogleSTS != 1 || g.GoogleIAM != 1 {
		t.Errorf("one exchange per cloud expected: %+v %+v", a, g)
	}
	for what, hostPort := range map[string]string{
		"STS and ECR":                strings.TrimPrefix(clouds.AWS.URL, "http://"),
		"Google STS":                 "sts.googleapis.com:443",
		"IAM Credentials":            "iamcredentials.googleapis.com:443",
		"the ECR scan":               ecr + ":443",
		"the Artifact Registry scan": gar + ":443",
	} {
		if proxy.ServedTo(hostPort) == 0 {
			t.Errorf("%s (%s) bypassed spec.proxySecretRef's proxy", what, hostPort)
		}
	}
}
