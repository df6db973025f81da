package manifests

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestSelectComponents(t *testing.T) {
	tests := []struct {
		name              string
		components, extra []string
		want              []string
		wantErr           string
	}{
		{name: "defaults", components: DefaultComponents(), want: DefaultComponents()},
		{name: "extra added in install order", components: []string{SourceController}, extra: ExtraComponents(),
			want: []string{SourceController, ImageReflectorController, ImageAutomationController, UI}},
		{name: "duplicates and order", components: []string{NotificationController, SourceController, SourceController, " "},
			want: []string{SourceController, NotificationController}},
		{name: "unknown", components: []string{"source-controler"}, wantErr: `unknown component "source-controler" in --components: valid components are source-controller, kustomize-controller, helm-controller, notification-controller, image-reflector-controller, image-automation-controller`},
		{name: "core in extra", components: DefaultComponents(), extra: []string{HelmController}, wantErr: "valid extra components are image-reflector-controller, image-automation-controller"},
		{name: "none", components: []string{""}, wantErr: "no components selected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SelectComponents(tt.components, tt.extra)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Options)
		wantErr string
	}{
		{name: "defaults", edit: func(*Options) {}},
		{name: "registry with port and path", edit: func(o *Options) { o.Registry = "127.0.0.1:5000/team/flux" }},
		{name: "bad namespace", edit: func(o *Options) { o.Namespace = "Flux_System" }, wantErr: `invalid --namespace "Flux_System"`},
		{name: "unknown component", edit: func(o *Options) { o.Components = []string{"foo"} }, wantErr: `unknown component "foo"`},
		{name: "registry scheme", edit: func(o *Options) { o.Registry = "https://ghcr.io/x" }, wantErr: "without a scheme"},
		{name: "registry uppercase path", edit: func(o *Options) { o.Registry = "ghcr.io/Team" }, wantErr: `path component "Team"`},
		{name: "empty registry", edit: func(o *Options) { o.Registry = "" }, wantErr: "--registry"},
		{name: "bad version", edit: func(o *Options) { o.Version = "v1.0.0+build" }, wantErr: "invalid --version"},
		{name: "bad log level", edit: func(o *Options) { o.LogLevel = "verbose" }, wantErr: "must be one of trace, debug, info, error"},
		{name: "bad domain", edit: func(o *Options) { o.ClusterDomain = "-cluster" }, wantErr: "invalid --cluster-domain"},
		{name: "bad toleration", edit: func(o *Options) { o.TolerationKeys = []string{"a b"} }, wantErr: "invalid --toleration-keys"},
		{name: "bad secret", edit: func(o *Options) { o.ImagePullSecret = "Reg_Cred" }, wantErr: "invalid --image-pull-secret"},
		{name: "all problems at once", edit: func(o *Options) { o.LogLevel = "x"; o.Namespace = "" }, wantErr: "--namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions("v1.0.0")
			tt.edit(&o)
			err := o.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			if _, gerr := Generate(o); gerr == nil {
				t.Fatal("Generate accepted options Validate refuses")
			}
		})
	}
}

// TestBundle checks what every install relies on in the embedded bundle itself.
func TestBundle(t *testing.T) {
	objs, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, u := range objs {
		count[u.GetKind()]++
		if u.GetLabels()[PartOfLabel] != PartOfValue || u.GetLabels()[InstanceLabel] != DefaultNamespace {
			t.Errorf("%s: labels %v lack part-of/instance", ID(u), u.GetLabels())
		}
		if u.GetKind() == "CustomResourceDefinition" && u.GetLabels()[ComponentLabel] == "" {
			t.Errorf("%s: no component label: `flux install --components` could not select it", ID(u))
		}
	}
	want := map[string]int{"Namespace": 1, "CustomResourceDefinition": 13, "ServiceAccount": 7, "Deployment": 7,
		"Service": 4, "ClusterRole": 4, "ClusterRoleBinding": 3, "NetworkPolicy": 3}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%d %s objects, want %d", count[k], k, n)
		}
	}
}

func generate(t *testing.T, edit func(*Options)) []*unstructured.Unstructured {
	t.Helper()
	o := DefaultOptions("v1.2.3")
	edit(&o)
	objs, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, u := range objs {
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	return nil
}

func container(t *testing.T, d *unstructured.Unstructured) map[string]any {
	t.Helper()
	ctrs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if len(ctrs) != 1 {
		t.Fatalf("%s: %d containers", ID(d), len(ctrs))
	}
	return ctrs[0].(map[string]any)
}

func args(t *testing.T, d *unstructured.Unstructured) []string {
	t.Helper()
	var out []string
	for _, a := range container(t, d)["args"].([]any) {
		out = append(out, a.(string))
	}
	return out
}

func TestGenerateDefaults(t *testing.T) {
	objs := generate(t, func(*Options) {})
	if objs[0].GetKind() != "Namespace" || objs[len(objs)-1].GetKind() != "NetworkPolicy" {
		t.Errorf("not in apply order: first %s, last %s", ID(objs[0]), ID(objs[len(objs)-1]))
	}
	var deployments []string
	crds := 0
	for _, u := range objs {
		if u.GetLabels()[VersionLabel] != "v1.2.3" {
			t.Errorf("%s: version label %q", ID(u), u.GetLabels()[VersionLabel])
		}
		switch u.GetKind() {
		case "Deployment":
			deployments = append(deployments, u.GetName())
		case "CustomResourceDefinition":
			crds++
			if c := u.GetLabels()[ComponentLabel]; !slices.Contains(DefaultComponents(), c) {
				t.Errorf("%s of %s installed by default", ID(u), c)
			}
		}
	}
	if !slices.Equal(deployments, []string{HelmController, KustomizeController, NotificationController, SourceController}) {
		t.Errorf("deployments %v", deployments)
	}
	if crds != 10 {
		t.Errorf("%d CRDs, want 10 (source 5, kustomize 1, helm 1, notification 3)", crds)
	}
	src := find(objs, "Deployment", SourceController)
	wantArgs := []string{
		"--events-addr=http://notification-controller.$(RUNTIME_NAMESPACE).svc.cluster.local./",
		"--watch-all-namespaces=true", "--log-level=info", "--log-encoding=json", "--enable-leader-election",
		"--storage-path=/data", "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local.",
	}
	if got := args(t, src); !slices.Equal(got, wantArgs) {
		t.Errorf("source-controller args\n got %q\nwant %q", got, wantArgs)
	}
	if img := container(t, src)["image"]; img != "ghcr.io/gotk-dev/source-controller:v1.2.3" {
		t.Errorf("image %v", img)
	}
	for _, a := range args(t, find(objs, "Deployment", NotificationController)) {
		if strings.HasPrefix(a, "--events-addr") {
			t.Errorf("notification-controller got %s: it is the events receiver", a)
		}
	}
	for _, name := range []string{"crd-controller-flux-system", "cluster-reconciler-flux-system"} {
		if find(objs, "ClusterRoleBinding", name) == nil {
			t.Errorf("ClusterRoleBinding %s missing", name)
		}
	}
	for _, name := range []string{"allow-egress", "allow-scraping", "allow-webhooks"} {
		if find(objs, "NetworkPolicy", name) == nil {
			t.Errorf("NetworkPolicy %s missing", name)
		}
	}
	ns := find(objs, "Namespace", DefaultNamespace)
	for k, v := range map[string]string{InstanceLabel: "flux-system", PartOfLabel: "flux",
		"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "latest"} {
		if ns.GetLabels()[k] != v {
			t.Errorf("namespace label %s=%q, want %q", k, ns.GetLabels()[k], v)
		}
	}
}

// TestRestrictedPods checks every controller against the "restricted" Pod Security Standard
// and the probes and ports the issue fixes; the cluster test proves the API server agrees.
func TestRestrictedPods(t *testing.T) {
	objs := generate(t, func(o *Options) { o.Components = AllComponents() })
	for _, d := range objs {
		if d.GetKind() != "Deployment" {
			continue
		}
		t.Run(d.GetName(), func(t *testing.T) {
			c := container(t, d)
			sc := c["securityContext"].(map[string]any)
			if sc["runAsNonRoot"] != true || sc["runAsUser"] != int64(65534) || sc["readOnlyRootFilesystem"] != true ||
				sc["allowPrivilegeEscalation"] != false {
				t.Errorf("container securityContext %v", sc)
			}
			if drop, _, _ := unstructured.NestedStringSlice(sc, "capabilities", "drop"); !slices.Equal(drop, []string{"ALL"}) {
				t.Errorf("capabilities.drop %v", drop)
			}
			if p, _, _ := unstructured.NestedString(sc, "seccompProfile", "type"); p != "RuntimeDefault" {
				t.Errorf("seccompProfile %q", p)
			}
			ports := map[string]int64{}
			for _, p := range c["ports"].([]any) {
				m := p.(map[string]any)
				ports[m["name"].(string)] = m["containerPort"].(int64)
			}
			if ports["http-prom"] != 8080 || ports["healthz"] != 9440 {
				t.Errorf("ports %v", ports)
			}
			for probe, path := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz"} {
				if got, _, _ := unstructured.NestedString(c, probe, "httpGet", "path"); got != path {
					t.Errorf("%s path %q, want %q", probe, got, path)
				}
				if got, _, _ := unstructured.NestedString(c, probe, "httpGet", "port"); got != "healthz" {
					t.Errorf("%s port %q", probe, got)
				}
			}
			mounts := map[string]bool{}
			for _, m := range c["volumeMounts"].([]any) {
				mounts[m.(map[string]any)["mountPath"].(string)] = true
			}
			if !mounts["/tmp"] {
				t.Error("no /tmp emptyDir: the root filesystem is read-only")
			}
			env, _ := c["env"].([]any)
			if len(env) == 0 || env[0].(map[string]any)["name"] != "RUNTIME_NAMESPACE" {
				t.Errorf("RUNTIME_NAMESPACE env missing: %v", env)
			}
			if d.GetName() == SourceController && (!mounts["/data"] || ports["http"] != 9090) {
				t.Errorf("source-controller: mounts %v ports %v", mounts, ports)
			}
		})
	}
}

func TestGenerateOptions(t *testing.T) {
	objs := generate(t, func(o *Options) {
		o.Namespace = "gitops"
		o.Components = []string{SourceController, ImageReflectorController}
		o.Registry = "registry.example.com:5000/mirror/"
		o.Version = "v9.9.9"
		o.ImagePullSecret = "regcred"
		o.NetworkPolicy = false
		o.WatchAllNamespaces = false
		o.LogLevel = "debug"
		o.ClusterDomain = "k8s.example"
		o.TolerationKeys = []string{"dedicated", "node-role.kubernetes.io/infra"}
	})
	data, err := Marshal(objs)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "flux-system") {
		t.Error("output still mentions flux-system after --namespace gitops")
	}
	if strings.Contains(string(data), "cluster.local") {
		t.Error("output still mentions cluster.local after --cluster-domain")
	}
	for _, u := range objs {
		if u.GetKind() == "NetworkPolicy" {
			t.Errorf("%s installed with --network-policy=false", ID(u))
		}
		if c := u.GetLabels()[ComponentLabel]; c != "" && c != SourceController && c != ImageReflectorController {
			t.Errorf("%s of unselected component %s", ID(u), c)
		}
		if u.GetNamespace() != "" && u.GetNamespace() != "gitops" {
			t.Errorf("%s in namespace %s", ID(u), u.GetNamespace())
		}
	}
	if find(objs, "ClusterRoleBinding", "cluster-reconciler-gitops") != nil {
		t.Error("cluster-reconciler binding kept although neither kustomize- nor helm-controller is installed")
	}
	crb := find(objs, "ClusterRoleBinding", "crd-controller-gitops")
	if crb == nil {
		t.Fatal("crd-controller-gitops binding missing")
	}
	if ref, _, _ := unstructured.NestedString(crb.Object, "roleRef", "name"); ref != "crd-controller-gitops" {
		t.Errorf("roleRef %q", ref)
	}
	var subjects []string
	for _, s := range crb.Object["subjects"].([]any) {
		m := s.(map[string]any)
		subjects = append(subjects, m["namespace"].(string)+"/"+m["name"].(string))
	}
	if !slices.Equal(subjects, []string{"gitops/source-controller", "gitops/image-reflector-controller"}) {
		t.Errorf("subjects %v", subjects)
	}
	src := find(objs, "Deployment", SourceController)
	wantArgs := []string{"--watch-all-namespaces=false", "--log-level=debug", "--log-encoding=json", "--enable-leader-election",
		"--storage-path=/data", "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.k8s.example."}
	if got := args(t, src); !slices.Equal(got, wantArgs) {
		t.Errorf("args (no --events-addr without notification-controller)\n got %q\nwant %q", got, wantArgs)
	}
	if img := container(t, src)["image"]; img != "registry.example.com:5000/mirror/source-controller:v9.9.9" {
		t.Errorf("image %v", img)
	}
	spec, _, _ := unstructured.NestedMap(src.Object, "spec", "template", "spec")
	if s, _ := spec["imagePullSecrets"].([]any); len(s) != 1 || s[0].(map[string]any)["name"] != "regcred" {
		t.Errorf("imagePullSecrets %v", spec["imagePullSecrets"])
	}
	var keys []string
	for _, tol := range spec["tolerations"].([]any) {
		m := tol.(map[string]any)
		if m["operator"] != "Exists" {
			t.Errorf("toleration %v", m)
		}
		keys = append(keys, m["key"].(string))
	}
	if !slices.Equal(keys, []string{"dedicated", "node-role.kubernetes.io/infra"}) {
		t.Errorf("toleration keys %v", keys)
	}
}

// TestGenerateFresh: each call returns independent objects, so edits never leak between
// installs in one process (tests run commands in parallel).
func TestGenerateFresh(t *testing.T) {
	a := generate(t, func(o *Options) { o.Namespace = "one" })
	b := generate(t, func(*Options) {})
	if a[0].GetName() != "one" || b[0].GetName() != DefaultNamespace {
		t.Fatalf("namespaces %s, %s", a[0].GetName(), b[0].GetName())
	}
}

func TestParse(t *testing.T) {
	objs, err := Parse([]byte("# comment only\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  n: \"1\"\n"))
	if err != nil || len(objs) != 1 || objs[0].GetName() != "a" {
		t.Fatalf("got %v, %v", objs, err)
	}
	if _, err := Parse([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\nfoo: bar\n")); err == nil || !strings.Contains(err.Error(), "document 2") {
		t.Fatalf("want an error naming document 2, got %v", err)
	}
	if _, err := Parse([]byte("a: [\n")); err == nil {
		t.Fatal("invalid YAML accepted")
	}
}
