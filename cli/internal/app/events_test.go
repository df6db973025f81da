package app

import (
	"bytes"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func TestWriteTabTable(t *testing.T) {
	var b bytes.Buffer
	err := writeTabTable(&b, []string{"Last seen", "Type", "Object"}, [][]string{
		{"5s", "Normal", "Kustomization/app"},
		{"2m (x3 over 1h)", "Warning", "GitRepository/ü"},
		{"1s", "Normal", "Kustomization/two-lines\nsecond line"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "LAST SEEN      \tTYPE   \tOBJECT                 \t\n" +
		"5s             \tNormal \tKustomization/app      \t\n" +
		"2m (x3 over 1h)\tWarning\tGitRepository/ü        \t\n" +
		"1s             \tNormal \tKustomization/two-lines\t\n" +
		"               \t       \tsecond line            \t\n"
	if b.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestLastSeen(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }
	tests := []struct {
		name string
		e    corev1.Event
		want string
	}{
		{"last timestamp", corev1.Event{LastTimestamp: at(45 * time.Second)}, "45s"},
		{"repeated", corev1.Event{Count: 4, FirstTimestamp: at(10 * time.Minute), LastTimestamp: at(2 * time.Minute)}, "2m (x4 over 10m)"},
		{"event time only", corev1.Event{EventTime: metav1.NewMicroTime(now.Add(-3 * time.Hour))}, "3h"},
		{"creation time as the last resort", corev1.Event{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: at(90 * time.Second)}}, "90s"},
		{"no time", corev1.Event{}, "<unknown>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lastSeen(&tt.e, now); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEventFilter(t *testing.T) {
	ev := func(apiVersion, kind, typ string) *corev1.Event {
		return &corev1.Event{Type: typ, InvolvedObject: corev1.ObjectReference{APIVersion: apiVersion, Kind: kind}}
	}
	tests := []struct {
		name   string
		filter eventFilter
		e      *corev1.Event
		keep   bool
	}{
		{"flux kind", eventFilter{fluxOnly: true}, ev("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "Normal"), true},
		{"older flux version", eventFilter{fluxOnly: true}, ev("source.toolkit.fluxcd.io/v1beta2", "OCIRepository", "Normal"), true},
		{"pod", eventFilter{fluxOnly: true}, ev("v1", "Pod", "Warning"), false},
		{"a kind named like Flux's in another group", eventFilter{fluxOnly: true}, ev("kustomize.config.k8s.io/v1beta1", "Kustomization", "Normal"), false},
		{"any kind with --for", eventFilter{}, ev("v1", "Pod", "Normal"), true},
		{"type without regard to case", eventFilter{types: []string{"warning"}}, ev("v1", "Pod", "Warning"), true},
		{"other type", eventFilter{types: []string{"Warning"}}, ev("v1", "Pod", "Normal"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.filter.keep(tt.e); got != tt.keep {
				t.Fatalf("keep = %v, want %v", got, tt.keep)
			}
		})
	}
}

func TestReferencedObjects(t *testing.T) {
	tests := []struct {
		name string
		obj  string
		want []objectRef
	}{
		{"kustomization", `{apiVersion: kustomize.toolkit.fluxcd.io/v1, kind: Kustomization, metadata: {name: a, namespace: apps},
			spec: {sourceRef: {kind: GitRepository, name: repo, namespace: flux-system}}}`,
			[]objectRef{{"GitRepository", "flux-system", "repo"}}},
		{"helmrelease with chart template", `{kind: HelmRelease, metadata: {name: hr, namespace: apps},
			spec: {chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}}}, status: {helmChart: flux-system/apps-hr}}`,
			[]objectRef{{"HelmRepository", "apps", "podinfo"}, {"HelmChart", "flux-system", "apps-hr"}}},
		{"helmrelease with chartRef", `{kind: HelmRelease, metadata: {name: hr, namespace: apps}, spec: {chartRef: {kind: OCIRepository, name: chart}}}`,
			[]objectRef{{"OCIRepository", "apps", "chart"}}},
		{"alert", `{kind: Alert, metadata: {name: a, namespace: ns1}, spec: {providerRef: {name: slack}}}`, []objectRef{{"Provider", "ns1", "slack"}}},
		{"image policy", `{kind: ImagePolicy, metadata: {name: p, namespace: ns1}, spec: {imageRepositoryRef: {name: r}}}`, []objectRef{{"ImageRepository", "ns1", "r"}}},
		{"source", `{kind: GitRepository, metadata: {name: r, namespace: ns1}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(tt.obj), &u.Object); err != nil {
				t.Fatal(err)
			}
			got := referencedObjects(u)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}
