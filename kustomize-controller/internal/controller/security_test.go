package controller

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "gotk.dev/kustomize-controller/api/v1"
)

// TestSecurity runs hostile and broken Kustomizations next to a healthy one in one
// namespace: each fails on its own, with a message that names the problem but never leaks
// the content of files outside the source, and the healthy one is applied regardless.
func TestSecurity(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Skip("no /etc/passwd to try to leak")
	}
	firstLine, _, _ := strings.Cut(string(passwd), "\n")

	src, _ := gitRepo(t, ns, "repo", map[string]string{
		"healthy/cm.yaml": cmYAML("healthy", nil),

		"climb/kustomization.yaml":    kustomizationYAML("../../etc/passwd"),
		"absolute/kustomization.yaml": kustomizationYAML("/etc/passwd"),
		"generator/kustomization.yaml": "configMapGenerator:\n- name: leak\n  files:\n  - passwd=/etc/passwd\n" +
			"- name: leak2\n  files:\n  - ../../../../etc/passwd\n",
		"patch/kustomization.yaml":  kustomizationYAML("cm.yaml") + "patches:\n- path: /etc/passwd\n",
		"patch/cm.yaml":             cmYAML("p", nil),
		"self/kustomization.yaml":   kustomizationYAML("."),
		"loop-a/kustomization.yaml": kustomizationYAML("../loop-b"),
		"loop-b/kustomization.yaml": kustomizationYAML("../loop-a"),
	})
	cases := []struct {
		name, path string
		opt        ksOpt
		reason     string
		msg        []string
	}{
		{name: "climb", path: "./climb", reason: buildFailedReason, msg: []string{"../../etc/passwd", "outside the source root"}},
		{name: "absolute", path: "./absolute", reason: buildFailedReason, msg: []string{"/etc/passwd", "absolute path"}},
		{name: "generator", path: "./generator", reason: buildFailedReason, msg: []string{"passwd"}},
		{name: "patch", path: "./patch", reason: buildFailedReason, msg: []string{"/etc/passwd"}},
		{name: "self", path: "./self", reason: buildFailedReason, msg: []string{"cycle detected"}},
		{name: "loop", path: "./loop-a", reason: buildFailedReason, msg: []string{"loop-a", "cycle detected"}},
		{name: "path-escape", path: "../../../etc", reason: buildFailedReason, msg: []string{"../../../etc", "outside the source root"}},
		{name: "missing-path", path: "./does-not-exist", reason: buildFailedReason, msg: []string{"does-not-exist", "not found"}},
		{name: "bad-expr", path: "./healthy", reason: invalidExprReason, msg: []string{"healthCheckExprs"}, opt: func(ks *kustomizev1.Kustomization) {
			ks.Spec.Wait = true
			ks.Spec.HealthCheckExprs = []kustomize.CustomHealthCheck{{APIVersion: "v1", Kind: "ConfigMap", HealthCheckExpressions: kustomize.HealthCheckExpressions{Current: "data.("}}}
		}},
	}
	for _, c := range cases {
		opts := []ksOpt{}
		if c.opt != nil {
			opts = append(opts, c.opt)
		}
		newKustomization(t, ns, c.name, src, c.path, opts...)
	}
	newKustomization(t, ns, "healthy", src, "./healthy")

	waitReady(t, ns, "healthy", 30*time.Second)
	for _, c := range cases {
		ks := waitReadyReason(t, ns, c.name, metav1.ConditionFalse, c.reason, 30*time.Second)
		msg := condition(ks, meta.ReadyCondition).Message
		assertContains(t, c.name+" message", msg, c.msg...)
		status, _ := json.Marshal(ks.Status)
		if strings.Contains(string(status), firstLine) || strings.Contains(string(status), "root:x:0:0") {
			t.Errorf("%s: status leaks /etc/passwd: %s", c.name, status)
		}
		if c.reason == invalidExprReason && !reconcileStalled(ks) {
			t.Errorf("%s: not stalled: %s", c.name, describe(ks))
		}
		if strings.Contains(msg, suiteEnv.root) {
			t.Errorf("%s: message names the controller's file system: %s", c.name, msg)
		}
	}
	for _, ev := range suiteEnv.events.InNamespace(ns) {
		if strings.Contains(ev.Message, firstLine) || strings.Contains(ev.Message, "root:x:0:0") {
			t.Errorf("event leaks /etc/passwd: %q", ev.Message)
		}
	}
	for _, name := range []string{"leak", "leak2", "p"} {
		if getCM(t, ns, name) != nil {
			t.Errorf("ConfigMap %s applied", name)
		}
	}
}

func reconcileStalled(ks *kustomizev1.Kustomization) bool {
	c := condition(ks, meta.StalledCondition)
	return c != nil && c.Status == metav1.ConditionTrue
}
