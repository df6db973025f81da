package journeys_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/kustomize"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

const driftNS = "drift"

// driftWeb is a Deployment and a Service; the Kustomization ignores the Deployment's
// /spec/replicas (spec.ignore), as for an autoscaled workload.
const driftWeb = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: drift
spec:
  replicas: 2
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
          image: nginx:1.27
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: drift
spec:
  selector:
    app: web
  ports:
    - port: 80
`

// TestDrift is journey 2: kubectl edits and deletes objects a Kustomization applied (a
// ConfigMap value, a Deployment's image, a Service), and scales the Deployment, whose
// /spec/replicas is under spec.ignore. The next reconcile, requested with kubectl annotate,
// restores the edited and deleted objects and keeps the replica count.
func TestDrift(t *testing.T) {
	t.Parallel()
	env, ctx := journey(t, 2*time.Minute)
	createNamespace(t, ctx, driftNS)
	repo, err := env.CreateGitRepo("drift")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := repo.Commit(map[string]string{
		"deploy/config.yaml": configMap(driftNS, "app-config", map[string]string{"color": "blue"}),
		"deploy/web.yaml":    driftWeb,
	}, "web app")
	if err != nil {
		t.Fatal(err)
	}
	src := gitRepository(driftNS, "drift", repo.HTTPURL)
	apply(t, ctx, src)
	ks := kustomization(driftNS, "drift", sourcev1.GitRepositoryKind, "drift", "./deploy")
	ks.Spec.Ignore = []kustomizev1.IgnoreRule{{
		Paths:  []string{"/spec/replicas"},
		Target: &kustomize.Selector{Kind: "Deployment", Name: "web"},
	}}
	apply(t, ctx, ks)
	waitApplied(t, ctx, ks, repo.Revision(hash), time.Minute)

	// An ignored path is left alone once the object exists; a created object starts from the
	// manifest's value.
	var web appsv1.Deployment
	mustGet(t, ctx, namespaced(&web, driftNS, "web"))
	if r := web.Spec.Replicas; r == nil || *r != 2 {
		t.Errorf("Deployment web created with %s replicas, want the manifest's 2", ptrString(r))
	}
	var svc corev1.Service
	mustGet(t, ctx, namespaced(&svc, driftNS, "web"))
	oldSvcUID := svc.UID

	// Drift, the way people cause it.
	kubectl(t, ctx, "-n", driftNS, "patch", "configmap", "app-config", "--type=merge", "-p", `{"data":{"color":"red"}}`)
	kubectl(t, ctx, "-n", driftNS, "set", "image", "deployment/web", "web=nginx:tampered")
	kubectl(t, ctx, "-n", driftNS, "scale", "deployment/web", "--replicas=3")
	kubectl(t, ctx, "-n", driftNS, "delete", "service", "web", "--wait=true")
	if cm, _ := getConfigMap(t, ctx, driftNS, "app-config"); cm == nil || cm.Data["color"] != "red" {
		t.Fatalf("kubectl patch did not change the ConfigMap: %+v", cm)
	}

	token := requestReconcile(t, ctx, driftNS, "ks/drift")
	waitHandled(t, ctx, ks, token, time.Minute)

	if cm, ok := getConfigMap(t, ctx, driftNS, "app-config"); !ok || cm.Data["color"] != "blue" {
		t.Errorf("ConfigMap app-config after reconcile: %v, want color=blue restored", cm)
	}
	mustGet(t, ctx, namespaced(&svc, driftNS, "web"))
	if svc.UID == oldSvcUID {
		t.Errorf("Service web has its old UID: it was not deleted and recreated")
	}
	mustGet(t, ctx, namespaced(&web, driftNS, "web"))
	if img := web.Spec.Template.Spec.Containers[0].Image; img != "nginx:1.27" {
		t.Errorf("Deployment web image %q after reconcile, want nginx:1.27 restored", img)
	}
	if r := web.Spec.Replicas; r == nil || *r != 3 {
		t.Errorf("Deployment web replicas %s after reconcile, want the kubectl scale to 3 kept (spec.ignore /spec/replicas)", ptrString(r))
	}
	if ks.Status.LastAppliedRevision != repo.Revision(hash) {
		t.Errorf("lastAppliedRevision %s, want %s", ks.Status.LastAppliedRevision, repo.Revision(hash))
	}
}

func ptrString(p *int32) string {
	if p == nil {
		return "nil"
	}
	return strconv.Itoa(int(*p))
}
