package kube

import (
	"testing"

	"k8s.io/client-go/rest"
)

func TestGetter(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:1", BearerToken: "token", Impersonate: rest.ImpersonationConfig{UserName: "system:serviceaccount:apps:deployer"}}
	g := NewGetter(cfg, "apps")
	ns, _, err := g.ToRawKubeConfigLoader().Namespace()
	if err != nil || ns != "apps" {
		t.Fatalf("namespace = %q, %v", ns, err)
	}
	rc, err := g.ToRESTConfig()
	if err != nil || rc.Host != cfg.Host || rc.Impersonate.UserName != cfg.Impersonate.UserName {
		t.Fatalf("rest config not passed through: %+v", rc)
	}
	rc.Host = "changed"
	if again, _ := g.ToRESTConfig(); again.Host != cfg.Host {
		t.Fatal("callers can change the Getter's config")
	}
	d1, err := g.ToDiscoveryClient()
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := g.ToDiscoveryClient()
	m1, err := g.ToRESTMapper()
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := g.ToRESTMapper()
	if d1 != d2 || m1 != m2 {
		t.Fatal("discovery and mapper must be built once per Getter")
	}
	g.Invalidate()
}

func TestFactoryPersistence(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	persistent := NewFactory(cfg, "apps", "storage", FactoryOptions{Persistent: true})
	if persistent.Getter() != persistent.Getter() {
		t.Error("persistent factory must share one Getter")
	}
	fresh := NewFactory(cfg, "apps", "storage", FactoryOptions{})
	if fresh.Getter() == fresh.Getter() {
		t.Error("non-persistent factory must build a Getter per configuration")
	}
	c, err := persistent.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Releases == nil || c.KubeClient == nil || c.RESTClientGetter == nil {
		t.Fatalf("incomplete configuration %+v", c)
	}
	if persistent.Namespace() != "apps" || persistent.StorageNamespace() != "storage" {
		t.Error("namespaces")
	}
}

func TestFieldManager(t *testing.T) {
	UseFieldManager("helm-controller")
	if FieldManager() != "helm-controller" {
		t.Fatal(FieldManager())
	}
}
