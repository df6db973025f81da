package controller

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const deployYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    tier: frontend
spec:
  replicas: 1
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
        image: nginx:1.0
`

// overlayFiles is a base with a ConfigMap and a Deployment and a component adding a
// ConfigMap.
func overlayFiles() map[string]string {
	return map[string]string{
		"base/kustomization.yaml":             kustomizationYAML("cm.yaml", "deploy.yaml"),
		"base/cm.yaml":                        cmYAML("settings", map[string]string{"a": "1"}),
		"base/deploy.yaml":                    deployYAML,
		"components/extra/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- extra.yaml\n",
		"components/extra/extra.yaml":         cmYAML("extra", map[string]string{"x": "y"}),
	}
}

// TestBuildOverrides applies the Flux overrides of spec (targetNamespace, namePrefix and
// nameSuffix, strategic merge and JSON6902 patches with target selectors, images,
// components with a missing one ignored, commonMetadata) and checks the objects in the
// cluster.
func TestBuildOverrides(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", overlayFiles())
	newKustomization(t, ns, "app", src, "./base", func(ks *kustomizev1.Kustomization) {
		ks.Spec.NamePrefix, ks.Spec.NameSuffix = "p-", "-s"
		ks.Spec.Patches = []kustomize.Patch{
			{
				Patch:  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  b: \"2\"\n",
				Target: &kustomize.Selector{Kind: "ConfigMap", Name: "settings"},
			},
			{
				Patch:  "- op: replace\n  path: /spec/replicas\n  value: 3\n",
				Target: &kustomize.Selector{Group: "apps", Kind: "Deployment", LabelSelector: "tier=frontend"},
			},
			{
				// A selector matching nothing changes nothing.
				Patch:  "- op: replace\n  path: /spec/replicas\n  value: 9\n",
				Target: &kustomize.Selector{Kind: "Deployment", LabelSelector: "tier=backend"},
			},
		}
		ks.Spec.Images = []kustomize.Image{{Name: "nginx", NewName: "registry.example.com/nginx", NewTag: "1.25"}}
		ks.Spec.Components = []string{"../components/extra", "../components/missing"}
		ks.Spec.IgnoreMissingComponents = true
		ks.Spec.CommonMetadata = &kustomizev1.CommonMetadata{Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"owner": "x"}}
	})
	ks := waitReady(t, ns, "app", 30*time.Second)

	want := []string{ns + "_p-settings-s__ConfigMap", ns + "_p-web-s_apps_Deployment", ns + "_p-extra-s__ConfigMap"}
	if got := inventoryIDs(ks); !sameSet(got, want) {
		t.Errorf("inventory = %v, want %v", got, want)
	}
	cm := getCM(t, ns, "p-settings-s")
	if cm == nil || cm.Data["a"] != "1" || cm.Data["b"] != "2" {
		t.Fatalf("ConfigMap p-settings-s = %+v, want a=1 b=2", cm)
	}
	if cm.Labels["team"] != "a" || cm.Annotations["owner"] != "x" {
		t.Errorf("commonMetadata missing: labels %v annotations %v", cm.Labels, cm.Annotations)
	}
	if cm.Labels[ownerLabelName] != "app" || cm.Labels[ownerLabelNamespace] != ns {
		t.Errorf("owner labels missing: %v", cm.Labels)
	}
	if getCM(t, ns, "p-extra-s") == nil {
		t.Error("the component's ConfigMap was not applied")
	}
	d := getObj(t, "apps/v1", "Deployment", ns, "p-web-s")
	if d == nil {
		t.Fatal("Deployment p-web-s not applied")
	}
	if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != 3 {
		t.Errorf("replicas = %d, want 3 (JSON6902 patch)", r)
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if img := containers[0].(map[string]any)["image"]; img != "registry.example.com/nginx:1.25" {
		t.Errorf("image = %v", img)
	}
	sel, _, _ := unstructured.NestedStringMap(d.Object, "spec", "selector", "matchLabels")
	if _, ok := sel["team"]; ok {
		t.Errorf("commonMetadata labels must not reach selectors: %v", sel)
	}

	// Without ignoreMissingComponents the missing component fails the build, named.
	updateKS(t, ns, "app", func(ks *kustomizev1.Kustomization) { ks.Spec.IgnoreMissingComponents = false })
	ks = waitReadyReason(t, ns, "app", metav1.ConditionFalse, buildFailedReason, 20*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, "components/missing")
}

// TestPlainDirectory builds a path without kustomization.yaml: every manifest below it is
// applied, nested directories included.
func TestPlainDirectory(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"deploy/prod/a.yaml":     cmYAML("a", nil) + "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n",
		"deploy/prod/sub/b.yml":  cmYAML("b", map[string]string{"k": "v"}),
		"deploy/prod/README.md":  "# not a manifest\n",
		"deploy/other/c.yaml":    cmYAML("c", nil),
		"deploy/prod/empty.yaml": "",
	})
	newKustomization(t, ns, "prod", src, "deploy/prod")
	ks := waitReady(t, ns, "prod", 30*time.Second)
	want := []string{ns + "_a__ConfigMap", ns + "_sa__ServiceAccount", ns + "_b__ConfigMap"}
	if got := inventoryIDs(ks); !sameSet(got, want) {
		t.Errorf("inventory = %v, want %v", got, want)
	}
	for _, e := range ks.Status.Inventory.Entries {
		if e.Version != "v1" {
			t.Errorf("inventory entry %s has version %q, want v1", e.ID, e.Version)
		}
	}
	if getCM(t, ns, "c") != nil {
		t.Error("a manifest outside spec.path was applied")
	}
}

// TestSourceKinds applies artifacts of every source kind, in the Kustomization's namespace
// and in another one, and records the revisions (and the origin revision of OCI artifacts).
func TestSourceKinds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		kind     string
		crossNS  bool
		metadata map[string]string
	}{
		{kind: sourcev1.GitRepositoryKind},
		{kind: sourcev1.GitRepositoryKind, crossNS: true},
		{kind: sourcev1.OCIRepositoryKind, metadata: map[string]string{sourcev1.OCIRevisionAnnotation: "main@sha1:0123456789abcdef0123456789abcdef01234567"}},
		{kind: sourcev1.BucketKind, crossNS: true},
	} {
		t.Run(fmt.Sprintf("%s/crossNamespace=%v", tt.kind, tt.crossNS), func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t)
			srcNS := ns
			if tt.crossNS {
				srcNS = newNamespace(t)
			}
			src := newSource(t, tt.kind, srcNS, "src")
			a := publish(t, src, map[string]string{"cm.yaml": cmYAML("cm", map[string]string{"kind": tt.kind})}, tt.metadata)
			newKustomization(t, ns, "app", src, "")
			ks := waitReady(t, ns, "app", 30*time.Second)
			if ks.Status.LastAppliedRevision != a.Revision || ks.Status.LastAttemptedRevision != a.Revision {
				t.Errorf("lastAppliedRevision %q lastAttemptedRevision %q, want %q", ks.Status.LastAppliedRevision, ks.Status.LastAttemptedRevision, a.Revision)
			}
			if want := tt.metadata[sourcev1.OCIRevisionAnnotation]; ks.Status.LastAppliedOriginRevision != want {
				t.Errorf("lastAppliedOriginRevision %q, want %q", ks.Status.LastAppliedOriginRevision, want)
			}
			if msg := condition(ks, meta.ReadyCondition).Message; !strings.Contains(msg, a.Revision) {
				t.Errorf("Ready message %q does not name the revision", msg)
			}
			if cm := getCM(t, ns, "cm"); cm == nil || cm.Data["kind"] != tt.kind {
				t.Errorf("ConfigMap = %+v", cm)
			}
		})
	}
}

// TestKinds applies a CRD with a custom resource of it, a Namespace with objects in it and
// RBAC in one revision: the staged apply creates the definitions before what needs them.
func TestKinds(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	group := "g" + randSuffix() + ".test.gotk.dev"
	appNS := ns + "-apps"
	crd := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.` + group + `
spec:
  group: ` + group + `
  names: {kind: Gadget, listKind: GadgetList, plural: gadgets, singular: gadget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`
	files := map[string]string{
		"all.yaml": strings.Join([]string{
			// Listed in an order that would fail if applied as written.
			"apiVersion: " + group + "/v1\nkind: Gadget\nmetadata:\n  name: g1\n  namespace: " + appNS + "\nspec:\n  size: 3\n",
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: in-new-ns\n  namespace: " + appNS + "\n",
			"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: read\n  namespace: " + appNS + "\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: " + ns + "-reader\nsubjects:\n- kind: ServiceAccount\n  name: app\n  namespace: " + appNS + "\n",
			"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: " + appNS + "\n",
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: " + appNS + "\nstringData:\n  k: v\n",
			"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: " + ns + "-reader\nrules:\n- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [get]\n",
			crd,
			"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + appNS + "\n",
		}, "---\n"),
	}
	src, _ := gitRepo(t, ns, "repo", files)
	newKustomization(t, ns, "infra", src, "", func(ks *kustomizev1.Kustomization) { ks.Spec.TargetNamespace = "" })
	ks := waitReady(t, ns, "infra", 60*time.Second)
	want := []string{
		"_" + appNS + "__Namespace",
		"_gadgets." + group + "_apiextensions.k8s.io_CustomResourceDefinition",
		"_" + ns + "-reader_rbac.authorization.k8s.io_ClusterRole",
		appNS + "_g1_" + group + "_Gadget",
		appNS + "_in-new-ns__ConfigMap",
		appNS + "_read_rbac.authorization.k8s.io_RoleBinding",
		appNS + "_app__ServiceAccount",
		appNS + "_s__Secret",
	}
	if got := inventoryIDs(ks); !sameSet(got, want) {
		t.Errorf("inventory = %v\nwant %v", got, want)
	}
	g := getObj(t, group+"/v1", "Gadget", appNS, "g1")
	if g == nil || g.GetLabels()[ownerLabelName] != "infra" {
		t.Fatalf("Gadget = %v", g)
	}
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestArtifactDigestMismatch refuses an artifact whose content does not match the digest
// the source recorded, naming the revision, and applies nothing.
func TestArtifactDigestMismatch(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	src := newSource(t, sourcev1.GitRepositoryKind, ns, "repo")
	a := publish(t, src, map[string]string{"cm.yaml": cmYAML("cm", nil)}, nil)
	tampered := a.DeepCopy()
	tampered.Digest = "sha256:" + strings.Repeat("0", 64)
	tampered.Revision = "main@sha1:" + strings.Repeat("1", 40)
	setArtifact(t, src, tampered)
	newKustomization(t, ns, "app", src, "")
	ks := waitReadyReason(t, ns, "app", metav1.ConditionFalse, artifactFailedReason, 30*time.Second)
	assertContains(t, "message", condition(ks, meta.ReadyCondition).Message, tampered.Revision, "digest")
	if ks.Status.LastAttemptedRevision != tampered.Revision {
		t.Errorf("lastAttemptedRevision %q", ks.Status.LastAttemptedRevision)
	}
	if getCM(t, ns, "cm") != nil {
		t.Error("applied from a tampered artifact")
	}
	// The source recovers: the retry applies it.
	setArtifact(t, src, a)
	waitApplied(t, ns, "app", a.Revision, 20*time.Second)
}
