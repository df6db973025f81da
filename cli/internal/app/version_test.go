package app

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestVersionClient(t *testing.T) {
	t.Parallel()
	kc := missingKubeconfig(t)
	if r := runFlux(t, "", "version", "--client", kc); r.code != 0 || r.stdout != "flux: "+Version+"\n" {
		t.Errorf("yaml: exit %d %q", r.code, r.stdout)
	}
	r := runFlux(t, "", "version", "--client", "-o", "json", kc)
	var got map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got["flux"] != Version || len(got) != 1 {
		t.Errorf("json: %v %q", err, r.stdout)
	}
	r = runFlux(t, "", "version", "--client", "-o", "table", kc)
	if r.code != 1 || !strings.Contains(r.stderr, `✗ --output must be json or yaml, got "table"`) {
		t.Errorf("-o table: exit %d %q", r.code, r.stderr)
	}
	r = runFlux(t, "", "version", kc)
	if r.code != 1 || r.stdout != "" {
		t.Errorf("without a cluster: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestControllerVersion(t *testing.T) {
	t.Parallel()
	ctr := func(name, image string) corev1.Container { return corev1.Container{Name: name, Image: image} }
	cases := []struct {
		containers []corev1.Container
		want       string
	}{
		{[]corev1.Container{ctr("manager", "ghcr.io/fluxcd/source-controller:v1.7.0")}, "v1.7.0"},
		{[]corev1.Container{ctr("manager", "registry.local:5000/fluxcd/kustomize-controller:v1.7.1@sha256:abc")}, "v1.7.1"},
		{[]corev1.Container{ctr("manager", "registry.local:5000/fluxcd/helm-controller@sha256:abc")}, "sha256:abc"},
		{[]corev1.Container{ctr("sidecar", "envoy:1.30"), ctr("manager", "gotk/notification-controller:0.1.0")}, "0.1.0"},
		{[]corev1.Container{ctr("app", "gotk/image-reflector-controller:v2")}, "v2"},
		{[]corev1.Container{ctr("manager", "gotk/untagged")}, ""},
		{nil, ""},
	}
	for _, tc := range cases {
		if got := controllerVersion(tc.containers); got != tc.want {
			t.Errorf("controllerVersion(%v) = %q, want %q", tc.containers, got, tc.want)
		}
	}
}
