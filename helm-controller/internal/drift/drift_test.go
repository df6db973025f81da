package drift

import (
	"context"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/kustomize"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v2 "gotk.dev/helm-controller/api/v2"
	"gotk.dev/helm-controller/internal/testchart"
	"gotk.dev/internal/testing/testenv"
	"gotk.dev/pkg/ssa"
)

var (
	server = testchart.Server(testenv.Options{})
	env    *testenv.Env
)

func TestMain(m *testing.M) { testenv.MainLazy(m, server) }

// needCluster makes env the package's API server, starting it on first use.
func needCluster(t *testing.T) {
	t.Helper()
	env = server.Get(t)
}

const manifest = `---
# Source: app/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  message: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 1
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
        - name: app
          image: ghcr.io/stefanprodan/podinfo:6.14.1
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-unmanaged
  annotations:
    helm.toolkit.fluxcd.io/driftDetection: disabled
data:
  message: hello
`

func TestObjects(t *testing.T) {
	objs, err := Objects(manifest+"---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s, namespace: other}\n", "apps")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 4 || objs[0].GetNamespace() != "apps" || objs[3].GetKind() != "Secret" || objs[3].GetNamespace() != "other" {
		t.Fatalf("objects: %d", len(objs))
	}
	if _, err := Objects("a: [", "apps"); err == nil || !strings.Contains(err.Error(), "document 1") {
		t.Fatalf("malformed manifest: %v", err)
	}
}

func TestDetectAndCorrect(t *testing.T) {
	needCluster(t)
	ctx := context.Background()
	ns := env.NewNamespace(t, "hr")
	d := NewDetector(env.Client, "helm-controller")
	enabled := v2.DriftDetection{Mode: v2.DriftDetectionEnabled}

	// Nothing exists yet: every managed object is reported deleted.
	report, err := d.Detect(ctx, manifest, ns, enabled)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Changes) != 2 || report.Changes[0].Action != ssa.Created || !strings.Contains(report.Summary(), "ConfigMap/"+ns+"/app-config deleted") {
		t.Fatalf("report before creation: %s", report.Summary())
	}
	if _, err := d.Correct(ctx, report, enabled); err != nil {
		t.Fatal(err)
	}
	if report, err = d.Detect(ctx, manifest, ns, enabled); err != nil || report.HasChanges() {
		t.Fatalf("after correction: %v %s", err, report.Summary())
	}

	// kubectl edit of the Deployment and the ConfigMap.
	dep := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app"}, dep); err != nil {
		t.Fatal(err)
	}
	three := int32(3)
	dep.Spec.Replicas = &three
	if err := env.Client.Update(ctx, dep, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "app-config"}, cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["message"] = "edited"
	if err := env.Client.Update(ctx, cm, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}

	report, err = d.Detect(ctx, manifest, ns, enabled)
	if err != nil {
		t.Fatal(err)
	}
	want := "ConfigMap/" + ns + "/app-config changed, Deployment/" + ns + "/app changed"
	if report.Summary() != want {
		t.Fatalf("summary = %q, want %q", report.Summary(), want)
	}

	// Ignore rules: the replicas of Deployments, or a whole object.
	ignoring := enabled
	ignoring.Ignore = []v2.IgnoreRule{{Paths: []string{"/spec/replicas"}, Target: &kustomize.Selector{Kind: "Deployment"}}}
	if report, err = d.Detect(ctx, manifest, ns, ignoring); err != nil || report.Summary() != "ConfigMap/"+ns+"/app-config changed" {
		t.Fatalf("with /spec/replicas ignored: %v %s", err, report.Summary())
	}

	// Correction reverts the edits, except the ignored field.
	if report, err = d.Detect(ctx, manifest, ns, ignoring); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Correct(ctx, report, ignoring); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(cm), cm); err != nil || cm.Data["message"] != "hello" {
		t.Fatalf("ConfigMap not corrected: %v %v", err, cm.Data)
	}
	report, err = d.Detect(ctx, manifest, ns, enabled)
	if err != nil || report.Summary() != "Deployment/"+ns+"/app changed" {
		t.Fatalf("the ignored replicas must still differ: %v %s", err, report.Summary())
	}
	if _, err := d.Correct(ctx, report, enabled); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(dep), dep); err != nil || *dep.Spec.Replicas != 1 {
		t.Fatalf("Deployment not corrected: %v %d", err, *dep.Spec.Replicas)
	}
	if report, err = d.Detect(ctx, manifest, ns, enabled); err != nil || report.HasChanges() {
		t.Fatalf("after correcting everything: %v %s", err, report.Summary())
	}
}
