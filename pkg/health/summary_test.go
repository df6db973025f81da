package health

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const (
	cmCurrent = `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: apps}
`
	nsCurrent = `apiVersion: v1
kind: Namespace
metadata: {name: apps}
`
	deployAvailable = deploymentHead + `status:
  observedGeneration: 3
  replicas: 2
  updatedReplicas: 2
  readyReplicas: 2
  availableReplicas: 2
  conditions:
  - {type: Progressing, status: "True", reason: NewReplicaSetAvailable}
  - {type: Available, status: "True"}
`
	deployFailed = deploymentHead + `status:
  observedGeneration: 3
  replicas: 2
  updatedReplicas: 2
  conditions:
  - {type: Progressing, status: "False", reason: ProgressDeadlineExceeded}
`
	deployRolling = deploymentHead + `status:
  observedGeneration: 3
  replicas: 2
  updatedReplicas: 2
  readyReplicas: 1
  availableReplicas: 1
  conditions:
  - {type: Progressing, status: "True", reason: ReplicaSetUpdated}
`
	hrFailed = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: flux-system, generation: 1}
status:
  observedGeneration: 1
  conditions:
  - {type: Ready, status: "False", reason: InstallFailed, message: "install retries exhausted"}
`
	widgetNoStatus = `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps}
`
)

// TestSummarize checks the aggregate status and that messages name each object as
// Kind/namespace/name with its status message.
func TestSummarize(t *testing.T) {
	widgetCheck := []kustomize.CustomHealthCheck{check("example.com/v1", "Widget", "status.ready", "", "")}
	tests := []struct {
		name      string
		checks    []kustomize.CustomHealthCheck
		manifests []string
		missing   []ObjMeta
		want      Status
		wantMsg   []string
		failed    int
		waiting   int
	}{
		{
			name:      "all current",
			manifests: []string{nsCurrent, cmCurrent, deployAvailable},
			want:      Current, wantMsg: []string{"all 3 objects are current"},
		},
		{
			name: "empty set is healthy",
			want: Current,
		},
		{
			name:      "failed objects are named with their messages",
			manifests: []string{cmCurrent, deployFailed, hrFailed, deployRolling},
			want:      Failed,
			wantMsg: []string{
				"Deployment/apps/web failed: Progress deadline exceeded",
				"HelmRelease/flux-system/podinfo failed: install retries exhausted",
				"(1 more in progress)",
			},
			failed: 2, waiting: 1,
		},
		{
			name:      "in progress names what is waited on, missing objects included",
			manifests: []string{nsCurrent, deployRolling},
			missing:   []ObjMeta{{Kind: "Service", Namespace: "apps", Name: "web"}, {Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "viewer"}},
			want:      InProgress,
			wantMsg: []string{
				"waiting for: Deployment/apps/web (InProgress: Available: 1/2)",
				"Service/apps/web (NotFound: object not found)",
				"ClusterRole/viewer (NotFound",
			},
			waiting: 3,
		},
		{
			name:      "evaluation errors are waited on as Unknown",
			checks:    widgetCheck,
			manifests: []string{widgetNoStatus},
			want:      InProgress,
			wantMsg:   []string{"Widget/apps/w (Unknown: evaluating current expression \"status.ready\""},
			waiting:   1,
		},
		{
			name: "cluster-scoped objects are Kind/name",
			manifests: []string{`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
status:
  conditions:
  - {type: NamesAccepted, status: "False", reason: PluralConflict, message: "plural name conflicts"}
`},
			want:    Failed,
			wantMsg: []string{"CustomResourceDefinition/widgets.example.com failed: plural name conflicts"},
			failed:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := NewEvaluator(tt.checks)
			if err != nil {
				t.Fatal(err)
			}
			var objs []*unstructured.Unstructured
			for _, m := range tt.manifests {
				objs = append(objs, obj(t, m))
			}
			s := ev.Summarize(objs, tt.missing)
			if s.Status != tt.want {
				t.Errorf("status %s, want %s (%s)", s.Status, tt.want, s.Message)
			}
			if s.Healthy() != (tt.want == Current) {
				t.Errorf("Healthy() = %v with status %s", s.Healthy(), s.Status)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(s.Message, w) {
					t.Errorf("message %q does not contain %q", s.Message, w)
				}
			}
			if len(s.Failed) != tt.failed || len(s.Waiting) != tt.waiting {
				t.Errorf("%d failed, %d waiting; want %d, %d", len(s.Failed), len(s.Waiting), tt.failed, tt.waiting)
			}
		})
	}
}

// BenchmarkSummarize measures one health assessment of a typical app (the flux-benchmark shape:
// Namespace, ConfigMap, Deployment, Service, HelmRelease) times 20.
func BenchmarkSummarize(b *testing.B) {
	var objs []*unstructured.Unstructured
	for i := 0; i < 20; i++ {
		for _, m := range []string{nsCurrent, cmCurrent, deployAvailable, hrFailed} {
			o := obj(b, m)
			o.SetName(fmt.Sprintf("%s-%d", o.GetName(), i))
			objs = append(objs, o)
		}
	}
	ev, err := NewEvaluator(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ev.Summarize(objs, nil)
	}
}
