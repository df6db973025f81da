package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

const substituteCM = `apiVersion: v1
kind: ConfigMap
metadata:
  name: vars
data:
  region: ${REGION}
  color: ${COLOR:=blue}
  tier: ${TIER:=gold}
  literal: $${NOT_A_VAR}
  token: ${TOKEN}
  optional: "${OPT:=none}"
`

const substituteDeploy = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${REPLICAS}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:${TAG:=1.25}
        ports:
        - containerPort: ${PORT}
`

const substituteDisabled = `apiVersion: v1
kind: ConfigMap
metadata:
  name: raw
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  script: echo ${UNDEFINED} $${HOME}
`

// TestPostBuildSubstitution substitutes variables from spec.postBuild.substitute and from
// ConfigMaps and Secrets (an optional missing one ignored), with defaults, the $${ escape,
// YAML typing that keeps the author's quoting, and the per-object opt-out.
func TestPostBuildSubstitution(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	ctx := testCtx(t)
	if err := k8s().Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cluster-vars"},
		Data:       map[string]string{"REGION": "eu-west", "REPLICAS": "2", "PORT": "9999"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := k8s().Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cluster-secret"},
		Data:       map[string][]byte{"TOKEN": []byte("s3cr3t")},
	}); err != nil {
		t.Fatal(err)
	}
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"app/kustomization.yaml": kustomizationYAML("cm.yaml", "deploy.yaml", "raw.yaml"),
		"app/cm.yaml":            substituteCM,
		"app/deploy.yaml":        substituteDeploy,
		"app/raw.yaml":           substituteDisabled,
		"strict/cm.yaml":         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strict\ndata:\n  a: ${DEFINED}\n  b: ${MISSING_VAR}\n",
	})
	newKustomization(t, ns, "app", src, "./app", func(ks *kustomizev1.Kustomization) {
		ks.Spec.PostBuild = &kustomizev1.PostBuild{
			Substitute: map[string]string{"PORT": "8080", "TIER": "silver"},
			SubstituteFrom: []kustomizev1.SubstituteReference{
				{Kind: kustomizev1.SubstituteKindConfigMap, Name: "cluster-vars"},
				{Kind: kustomizev1.SubstituteKindSecret, Name: "cluster-secret"},
				{Kind: kustomizev1.SubstituteKindConfigMap, Name: "not-there", Optional: true},
			},
		}
	})
	newKustomization(t, ns, "strict", src, "./strict", func(ks *kustomizev1.Kustomization) {
		ks.Spec.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"DEFINED": "yes"}}
	})

	waitReady(t, ns, "app", 30*time.Second)
	cm := getCM(t, ns, "vars")
	want := map[string]string{
		"region":   "eu-west",
		"color":    "blue",
		"tier":     "silver",
		"literal":  "${NOT_A_VAR}",
		"token":    "s3cr3t",
		"optional": "none",
	}
	for k, v := range want {
		if cm.Data[k] != v {
			t.Errorf("data.%s = %q, want %q", k, cm.Data[k], v)
		}
	}
	d := getObj(t, "apps/v1", "Deployment", ns, "web")
	if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != 2 {
		t.Errorf("replicas = %d, want 2 (an unquoted number lands as a number)", r)
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	c0 := containers[0].(map[string]any)
	if img := c0["image"]; img != "nginx:1.25" {
		t.Errorf("image = %v", img)
	}
	// substitute wins over substituteFrom.
	ports, _ := c0["ports"].([]any)
	if len(ports) != 1 || ports[0].(map[string]any)["containerPort"] != int64(8080) {
		t.Errorf("containerPort = %v, want 8080", c0["ports"])
	}
	if raw := getCM(t, ns, "raw"); raw.Data["script"] != "echo ${UNDEFINED} $${HOME}" {
		t.Errorf("opted-out object was substituted: %q", raw.Data["script"])
	}

	// Strict: a variable with no value and no default fails the build, naming it.
	ks := waitReadyReason(t, ns, "strict", metav1.ConditionFalse, substituteFailedReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "MISSING_VAR", "ConfigMap")
	if getCM(t, ns, "strict") != nil {
		t.Error("an object failing substitution was applied")
	}
}

// TestSubstituteFromMissing fails while a required substituteFrom ConfigMap is missing and
// recovers by itself after spec.retryInterval once it exists.
func TestSubstituteFromMissing(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("cm", map[string]string{"env": "${ENV}"})})
	newKustomization(t, ns, "app", src, "", func(ks *kustomizev1.Kustomization) {
		ks.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{
			{Kind: kustomizev1.SubstituteKindConfigMap, Name: "later"},
		}}
	})
	ks := waitReadyReason(t, ns, "app", metav1.ConditionFalse, varsNotFoundReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, ns+"/later")
	if err := k8s().Create(testCtx(t), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "later"},
		Data:       map[string]string{"ENV": "prod"},
	}); err != nil {
		t.Fatal(err)
	}
	// Nothing watches the ConfigMap: the retry after retryInterval (2s) picks it up.
	waitReady(t, ns, "app", 10*time.Second)
	if cm := getCM(t, ns, "cm"); cm.Data["env"] != "prod" {
		t.Errorf("env = %q", cm.Data["env"])
	}
}

// TestSubstituteQuoting pins upstream's typing: substitution runs on kustomize's rendering
// of each object, which drops the quotes around "${PORT}" (kustomize quotes only strings
// that would otherwise read as another type), so PORT=8080 lands as a number and the API
// server refuses the ConfigMap, naming the field. A value that carries its own quotes stays
// a string.
func TestSubstituteQuoting(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"quoted/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: quoted\ndata:\n  port: \"${PORT}\"\n",
		"typed/cm.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typed\ndata:\n  port: ${PORT}\n  enabled: ${ENABLED}\n",
	})
	newKustomization(t, ns, "quoted", src, "./quoted", func(ks *kustomizev1.Kustomization) {
		ks.Spec.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"PORT": "8080"}}
	})
	newKustomization(t, ns, "typed", src, "./typed", func(ks *kustomizev1.Kustomization) {
		ks.Spec.PostBuild = &kustomizev1.PostBuild{Substitute: map[string]string{"PORT": `"8080"`, "ENABLED": `'true'`}}
	})
	ks := waitReadyReason(t, ns, "quoted", metav1.ConditionFalse, reconciliationFailedReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "ConfigMap/"+ns+"/quoted", ".data.port", "expected string")
	waitReady(t, ns, "typed", 30*time.Second)
	if cm := getCM(t, ns, "typed"); cm.Data["port"] != "8080" || cm.Data["enabled"] != "true" {
		t.Errorf("data = %v", cm.Data)
	}
}

// TestSubstituteStrategy: with the default strategy (WithVariables) nothing is substituted
// when no variable is defined, so ${...} in manifests stays as written; with Always the
// substitution runs (and strictly fails on an unset variable).
func TestSubstituteStrategy(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{"cm.yaml": cmYAML("script", map[string]string{"run": "echo ${HOME}"})})
	postBuild := func(strategy string) ksOpt {
		return func(ks *kustomizev1.Kustomization) {
			ks.Spec.TargetNamespace = ns
			ks.Spec.PostBuild = &kustomizev1.PostBuild{
				SubstituteStrategy: strategy,
				SubstituteFrom:     []kustomizev1.SubstituteReference{{Kind: kustomizev1.SubstituteKindConfigMap, Name: "absent", Optional: true}},
			}
		}
	}
	newKustomization(t, ns, "with-variables", src, "", postBuild(""))
	waitReady(t, ns, "with-variables", 30*time.Second)
	if cm := getCM(t, ns, "script"); cm.Data["run"] != "echo ${HOME}" {
		t.Errorf("data.run = %q, want it untouched", cm.Data["run"])
	}
	other := newNamespace(t)
	osrc, _ := gitRepo(t, other, "repo", map[string]string{"cm.yaml": cmYAML("script", map[string]string{"run": "echo ${HOME}"})})
	newKustomization(t, other, "always", osrc, "", postBuild(kustomizev1.SubstituteStrategyAlways), func(ks *kustomizev1.Kustomization) { ks.Spec.TargetNamespace = other })
	ks := waitReadyReason(t, other, "always", metav1.ConditionFalse, substituteFailedReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "HOME")
}

// TestWatchedConfigTriggersReconcile: a change to a ConfigMap labelled
// reconcile.fluxcd.io/watch: Enabled that a Kustomization uses in substituteFrom reconciles it
// at once (its interval is an hour); an unlabelled one waits for the interval.
func TestWatchedConfigTriggersReconcile(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	for name, labels := range map[string]map[string]string{"watched": {"reconcile.fluxcd.io/watch": "Enabled"}, "plain": nil} {
		if err := k8s().Create(testCtx(t), &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-vars", Labels: labels},
			Data:       map[string]string{"COLOR": "blue"},
		}); err != nil {
			t.Fatal(err)
		}
	}
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"watched/cm.yaml": cmYAML("watched", map[string]string{"color": "${COLOR}"}),
		"plain/cm.yaml":   cmYAML("plain", map[string]string{"color": "${COLOR}"}),
	})
	for _, name := range []string{"watched", "plain"} {
		newKustomization(t, ns, name, src, "./"+name, func(ks *kustomizev1.Kustomization) {
			ks.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{
				{Kind: kustomizev1.SubstituteKindConfigMap, Name: name + "-vars"},
			}}
		})
		waitReady(t, ns, name, 30*time.Second)
	}
	for _, name := range []string{"watched", "plain"} {
		cm := &corev1.ConfigMap{}
		if err := k8s().Get(testCtx(t), client.ObjectKey{Namespace: ns, Name: name + "-vars"}, cm); err != nil {
			t.Fatal(err)
		}
		cm.Data["COLOR"] = "green"
		if err := k8s().Update(testCtx(t), cm); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 15*time.Second, func() error {
		if c := getCM(t, ns, "watched"); c == nil || c.Data["color"] != "green" {
			return fmt.Errorf("watched ConfigMap not re-substituted: %v", c)
		}
		return nil
	})
	if c := getCM(t, ns, "plain"); c.Data["color"] != "blue" {
		t.Errorf("the unlabelled ConfigMap's change was applied before the interval: %v", c.Data)
	}
}
