package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	"gotk.dev/pkg/options"
)

// restrictedOptions are the controller flags of the direct reconciler: what a locked-down
// multi-tenant installation sets.
var restrictedOptions = Options{
	NoCrossNamespaceRefs: true,
	NoRemoteBases:        true,
	Cluster:              options.Cluster{DefaultServiceAccount: "flux-applier", InsecureKubeconfigExec: true},
}

// direct runs the Kustomization reconcile skeleton with other controller options than the
// suite's manager, against the same API server. One process cannot register a second
// controller of the same name, so the tests call Reconcile themselves for Kustomizations
// labelled directLabel, which the suite's manager does not watch.
type direct struct {
	r *KustomizationReconciler
}

func newDirect(t *testing.T, opts Options) *direct {
	t.Helper()
	env := suiteEnv.env
	c, err := client.New(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewKustomizationReconciler(suiteEnv.rt, Config{Client: c, Options: opts, Artifacts: suiteEnv.artifacts, Builder: suiteEnv.builder})
	if err != nil {
		t.Fatal(err)
	}
	return &direct{r: r}
}

// reconcile runs one reconcile of ns/name and returns the Kustomization afterwards.
func (d *direct) reconcile(t *testing.T, ns, name string) *kustomizev1.Kustomization {
	t.Helper()
	// The logger the manager's controller would hand the reconcile, so what it logs is
	// captured with the object's name, as in production.
	ctx := ctrl.LoggerInto(testCtx(t), suiteEnv.rt.Log.WithValues("controller", "kustomization", "Kustomization", map[string]string{"name": name, "namespace": ns},
		"namespace", ns, "name", name))
	_, _ = d.r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: name}})
	return getKS(t, ns, name)
}

func directLabelled(ks *kustomizev1.Kustomization) {
	ks.Labels = map[string]string{directLabel: "true"}
}

func assertReady(t *testing.T, ks *kustomizev1.Kustomization, status metav1.ConditionStatus, reason string, msgParts ...string) {
	t.Helper()
	c := condition(ks, meta.ReadyCondition)
	if c == nil || c.Status != status || c.Reason != reason {
		t.Fatalf("want Ready=%s/%s, have %s", status, reason, describe(ks))
	}
	assertContains(t, "Ready message", c.Message, msgParts...)
}

// TestNoCrossNamespaceRefs: with --no-cross-namespace-refs a sourceRef or dependsOn into
// another namespace stalls the Kustomization; the same references in its own namespace work.
func TestNoCrossNamespaceRefs(t *testing.T) {
	t.Parallel()
	d := newDirect(t, restrictedOptions)
	ns, other := newNamespace(t), newNamespace(t)
	configMapsOnly(t, ns, "flux-applier", append(cmVerbsNoDelete, "delete")...)
	foreign, _ := gitRepo(t, other, "repo", map[string]string{"cm.yaml": cmYAML("cm", nil)})
	own, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("cm", nil)})

	newKustomization(t, ns, "cross-source", foreign, "", directLabelled)
	ks := d.reconcile(t, ns, "cross-source")
	assertReady(t, ks, metav1.ConditionFalse, accessDeniedReason, "GitRepository/"+other+"/repo", "cross-namespace")
	if c := condition(ks, meta.StalledCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Stalled = %v", c)
	}

	newKustomization(t, ns, "cross-dep", own, "", directLabelled, dependsOn(meta.DependencyReference{Namespace: other, Name: "x"}))
	assertReady(t, d.reconcile(t, ns, "cross-dep"), metav1.ConditionFalse, accessDeniedReason, other+"/x", "cross-namespace")

	newKustomization(t, ns, "same", own, "", directLabelled)
	assertReady(t, d.reconcile(t, ns, "same"), metav1.ConditionTrue, meta.ReconciliationSucceededReason)
	if getCM(t, ns, "cm") == nil {
		t.Error("not applied")
	}
}

// TestNoRemoteBases: with --no-remote-bases a kustomization referring to a remote base fails
// the build, naming it, without fetching anything.
func TestNoRemoteBases(t *testing.T) {
	t.Parallel()
	d := newDirect(t, restrictedOptions)
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"kustomization.yaml": kustomizationYAML("cm.yaml", "https://github.com/stefanprodan/podinfo//kustomize?ref=6.5.0"),
		"cm.yaml":            cmYAML("cm", nil),
	})
	newKustomization(t, ns, "app", src, "", directLabelled)
	start := time.Now()
	ks := d.reconcile(t, ns, "app")
	assertReady(t, ks, metav1.ConditionFalse, buildFailedReason, "github.com/stefanprodan/podinfo")
	if time.Since(start) > 5*time.Second {
		t.Errorf("refusing took %s", time.Since(start))
	}
	if getCM(t, ns, "cm") != nil {
		t.Error("applied despite the build failure")
	}
}

// TestDefaultServiceAccount: with --default-service-account a Kustomization without
// spec.serviceAccountName applies as that account of its namespace, never as the controller.
func TestDefaultServiceAccount(t *testing.T) {
	t.Parallel()
	d := newDirect(t, restrictedOptions)
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("cm", nil)})
	newKustomization(t, ns, "app", src, "", directLabelled)
	assertReady(t, d.reconcile(t, ns, "app"), metav1.ConditionFalse, reconciliationFailedReason,
		"ConfigMap/"+ns+"/cm", "forbidden", "system:serviceaccount:"+ns+":flux-applier")

	configMapsOnly(t, ns, "flux-applier", cmVerbsNoDelete...)
	var ks *kustomizev1.Kustomization
	eventually(t, 10*time.Second, func() error {
		ks = d.reconcile(t, ns, "app")
		if c := condition(ks, meta.ReadyCondition); c.Status != metav1.ConditionTrue {
			return fmt.Errorf("not ready: %s", describe(ks))
		}
		return nil
	})
	if getCM(t, ns, "cm") == nil {
		t.Error("not applied")
	}
}

// TestInsecureKubeconfigExec: with --insecure-kubeconfig-exec a kubeconfig whose credentials
// come from an exec plugin is used.
func TestInsecureKubeconfigExec(t *testing.T) {
	t.Parallel()
	d := newDirect(t, restrictedOptions)
	ns := newNamespace(t)
	kubeconfigSecret(t, ns, "spoke", kubeconfig(t, true))
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("remote", nil)})
	newKustomization(t, ns, "app", src, "", directLabelled, withKubeConfig("spoke"))
	assertReady(t, d.reconcile(t, ns, "app"), metav1.ConditionTrue, meta.ReconciliationSucceededReason)
	if getCM(t, ns, "remote") == nil {
		t.Error("not applied")
	}
}

// TestSubstituteNotStrict: without StrictPostBuildSubstitutions (upstream's default, and the
// direct reconciler's), a variable with no value and no default expands to "".
func TestSubstituteNotStrict(t *testing.T) {
	t.Parallel()
	d := newDirect(t, Options{})
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lax\ndata:\n  a: \"${DEFINED}\"\n  b: \"x${MISSING_VAR}y\"\n",
	})
	newKustomization(t, ns, "app", src, "", directLabelled, func(ks *kustomizev1.Kustomization) {
		ks.Spec.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"DEFINED": "set"}}
	})
	assertReady(t, d.reconcile(t, ns, "app"), metav1.ConditionTrue, meta.ReconciliationSucceededReason)
	if cm := getCM(t, ns, "lax"); cm == nil || cm.Data["a"] != "set" || cm.Data["b"] != "xy" {
		t.Errorf("ConfigMap = %v", cm)
	}
}

// TestOverrideManager: fields another tool adds to an applied object stay, unless the tool's
// field manager is named in --override-manager: then the next apply removes them.
func TestOverrideManager(t *testing.T) {
	t.Parallel()
	d := newDirect(t, Options{OverrideManagers: []string{"rogue-tool"}})
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("cm", map[string]string{"k": "v"})})
	newKustomization(t, ns, "app", src, "", directLabelled)
	assertReady(t, d.reconcile(t, ns, "app"), metav1.ConditionTrue, meta.ReconciliationSucceededReason)
	editCM(t, ns, "cm", "rogue-tool", func(cm *corev1.ConfigMap) { cm.Data["rogue"] = "x" })
	editCM(t, ns, "cm", "other-tool", func(cm *corev1.ConfigMap) { cm.Data["other"] = "y" })
	requestReconcile(t, ns, "app")
	assertReady(t, d.reconcile(t, ns, "app"), metav1.ConditionTrue, meta.ReconciliationSucceededReason)
	cm := getCM(t, ns, "cm")
	if _, ok := cm.Data["rogue"]; ok {
		t.Errorf("the field added by an --override-manager was kept: %v", cm.Data)
	}
	if cm.Data["other"] != "y" || cm.Data["k"] != "v" {
		t.Errorf("data = %v, want the other tool's field kept and ours applied", cm.Data)
	}
}
