package controller

import (
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// TestDecryptionServiceAccountNeedsGate: spec.decryption.serviceAccountName without the
// ObjectLevelWorkloadIdentity gate stalls with upstream's FeatureGateDisabled, and nothing is
// applied (decrypting with the controller's identity instead would hand a tenant its keys).
func TestDecryptionServiceAccountNeedsGate(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"secret.yaml": plainSecret, "cm.yaml": cmYAML("cm", nil)})
	newKustomization(t, ns, "tenant", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.Decryption = &kustomizev1.Decryption{Provider: kustomizev1.DecryptionProviderSOPS, ServiceAccountName: "tenant-kms"}
	})
	ks := waitReadyReason(t, ns, "tenant", metav1.ConditionFalse, meta.FeatureGateDisabledReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "spec.decryption.serviceAccountName", "ObjectLevelWorkloadIdentity")
	if c := condition(ks, meta.StalledCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Stalled = %+v, want True", c)
	}
	var cm corev1.ConfigMap
	if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: "cm"}, &cm); !apierrors.IsNotFound(err) {
		t.Errorf("the ConfigMap was applied (or the lookup failed): %v", err)
	}
}
