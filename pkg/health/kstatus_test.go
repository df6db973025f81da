package health

import (
	"strings"
	"testing"
)

const deploymentHead = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps, generation: 3}
spec:
  replicas: 2
  progressDeadlineSeconds: 600
`

// TestEvaluateBuiltin checks the kstatus rules for built-in kinds and kstatus-compatible custom
// resources, with objects shaped like real API responses.
func TestEvaluateBuiltin(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		want     Status
		wantMsg  string
		// wantAssumed is what the result must say it assumed ("" for objects that report
		// their health fully).
		wantAssumed string
	}{
		{
			name: "deployment rolling out",
			manifest: deploymentHead + `status:
  observedGeneration: 3
  replicas: 2
  updatedReplicas: 1
  readyReplicas: 1
  availableReplicas: 1
  conditions:
  - {type: Progressing, status: "True", reason: ReplicaSetUpdated}
  - {type: Available, status: "True", reason: MinimumReplicasAvailable}
`,
			want: InProgress, wantMsg: "Updated: 1/2",
		},
		{
			name: "deployment available",
			manifest: deploymentHead + `status:
  observedGeneration: 3
  replicas: 2
  updatedReplicas: 2
  readyReplicas: 2
  availableReplicas: 2
  conditions:
  - {type: Progressing, status: "True", reason: NewReplicaSetAvailable}
  - {type: Available, status: "True", reason: MinimumReplicasAvailable}
`,
			want: Current, wantMsg: "Deployment is available",
		},
		{
			name: "deployment progress deadline exceeded",
			manifest: deploymentHead + `status:
  observedGeneration: 3
  replicas: 2
  updatedReplicas: 2
  readyReplicas: 0
  availableReplicas: 0
  conditions:
  - {type: Progressing, status: "False", reason: ProgressDeadlineExceeded, message: 'ReplicaSet "web-7d" has timed out progressing.'}
  - {type: Available, status: "False", reason: MinimumReplicasUnavailable}
`,
			want: Failed, wantMsg: "Progress deadline exceeded",
		},
		{
			name: "deployment generation not observed",
			manifest: deploymentHead + `status:
  observedGeneration: 2
  replicas: 2
  updatedReplicas: 2
  readyReplicas: 2
  availableReplicas: 2
  conditions:
  - {type: Progressing, status: "True", reason: NewReplicaSetAvailable}
  - {type: Available, status: "True"}
`,
			want: InProgress, wantMsg: "latest observed generation is 2",
		},
		{
			name: "deployment being deleted",
			manifest: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps, generation: 3, deletionTimestamp: "2024-05-01T10:00:00Z"}
spec: {replicas: 1}
`,
			want: Terminating,
		},
		{
			name: "statefulset ready",
			manifest: `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: apps, generation: 1}
spec: {replicas: 3}
status:
  observedGeneration: 1
  replicas: 3
  readyReplicas: 3
  currentReplicas: 3
  updatedReplicas: 3
  currentRevision: db-5f8
  updateRevision: db-5f8
`,
			want: Current,
		},
		{
			name: "statefulset pods not ready",
			manifest: `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: apps, generation: 1}
spec: {replicas: 3}
status: {observedGeneration: 1, replicas: 3, readyReplicas: 1, currentReplicas: 3}
`,
			want: InProgress, wantMsg: "Ready: 1/3",
		},
		{
			name: "job complete",
			manifest: `apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: apps, generation: 1}
spec: {completions: 1}
status:
  startTime: "2024-05-01T10:00:00Z"
  succeeded: 1
  conditions:
  - {type: Complete, status: "True"}
`,
			want: Current, wantMsg: "Job Completed",
		},
		{
			name: "job failed",
			manifest: `apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: apps, generation: 1}
spec: {completions: 1, backoffLimit: 0}
status:
  startTime: "2024-05-01T10:00:00Z"
  failed: 1
  conditions:
  - {type: Failed, status: "True", reason: BackoffLimitExceeded}
`,
			want: Failed, wantMsg: "Job Failed",
		},
		{
			name: "job not started",
			manifest: `apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: apps, generation: 1}
spec: {completions: 1}
`,
			want: InProgress, wantMsg: "Job not started",
		},
		{
			name: "service cluster IP",
			manifest: `apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec: {type: ClusterIP, clusterIP: 10.96.0.12, ports: [{port: 80}]}
`,
			want: Current,
		},
		{
			name: "load balancer without IP",
			manifest: `apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`,
			want: InProgress, wantMsg: "ClusterIP not set",
		},
		{
			name: "configmap",
			manifest: `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: apps}
data: {a: b}
`,
			want: Current,
		},
		{
			name: "custom resource Ready=True",
			manifest: `apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: tls, namespace: apps, generation: 2}
status:
  observedGeneration: 2
  conditions:
  - {type: Ready, status: "True", reason: Ready, message: Certificate is up to date and has not expired}
`,
			want: Current,
		},
		{
			name: "custom resource Ready=False",
			manifest: `apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: tls, namespace: apps, generation: 2}
status:
  observedGeneration: 2
  conditions:
  - {type: Ready, status: "False", reason: DoesNotExist, message: Issuing certificate as Secret does not exist}
`,
			want: InProgress, wantMsg: "Issuing certificate",
		},
		{
			name: "custom resource Stalled",
			manifest: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps, generation: 1}
status:
  observedGeneration: 1
  conditions:
  - {type: Stalled, status: "True", reason: InvalidSpec, message: size must be positive}
`,
			want: Failed, wantMsg: "size must be positive",
		},
		{
			// kstatus calls it Current; the result says that rests on no status at all.
			name: "custom resource without status",
			manifest: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps, generation: 1}
spec: {size: 1}
`,
			want: Current, wantAssumed: "no status",
		},
		{
			name: "custom resource without observedGeneration",
			manifest: `apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: apps, generation: 2}
spec: {size: 1}
status:
  conditions:
  - {type: Ready, status: "True", reason: Done, message: ready}
`,
			want: Current, wantAssumed: "no status.observedGeneration",
		},
		{
			name: "CRD established",
			manifest: `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com, generation: 1}
status:
  conditions:
  - {type: NamesAccepted, status: "True"}
  - {type: Established, status: "True"}
`,
			want: Current,
		},
	}
	var ev *Evaluator // nil: default rules only
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ev.Evaluate(obj(t, tt.manifest))
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.want || !strings.Contains(res.Message, tt.wantMsg) {
				t.Errorf("got %s %q, want %s containing %q", res.Status, res.Message, tt.want, tt.wantMsg)
			}
			if res.Assumed != tt.wantAssumed {
				t.Errorf("assumed %q, want %q", res.Assumed, tt.wantAssumed)
			}
		})
	}
}
