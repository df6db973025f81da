package ui

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/cli/internal/fluxobj"
)

// Detail is what an object's page shows, computed from the hub.
type Detail struct {
	Row
	Reconcilable bool           `json:"reconcilable"`
	Suspendable  bool           `json:"suspendable"`
	Generation   int64          `json:"generation"`
	Observed     int64          `json:"observedGeneration"`
	RequestedAt  string         `json:"requestedAt,omitempty"`
	HandledAt    string         `json:"lastHandledReconcileAt,omitempty"`
	Spec         map[string]any `json:"spec,omitempty"`
	Conditions   []Condition    `json:"conditions"`
	Source       *SourceInfo    `json:"source,omitempty"`
	History      []any          `json:"history,omitempty"`
	Graph        Graph          `json:"graph"`
	HasInventory bool           `json:"hasInventory"`
	HasDiff      bool           `json:"hasDiff"`
}

// Condition is one status condition.
type Condition struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	Reason             string `json:"reason,omitempty"`
	Message            string `json:"message,omitempty"`
	LastTransitionTime string `json:"lastTransitionTime,omitempty"`
}

// SourceInfo is the source an object reconciles from, with the revision it has and, for
// a Git source on a known host, a link to the commit.
type SourceInfo struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	URL       string `json:"url,omitempty"`
	Revision  string `json:"revision,omitempty"`
	CommitURL string `json:"commitURL,omitempty"`
	State     State  `json:"state,omitempty"`
}

// Graph is the dependsOn graph around an object: what it depends on (transitively) and what
// depends on it directly. Edges go from the dependent to its dependency.
type Graph struct {
	Nodes []GraphNode `json:"nodes"`
	Edges [][2]string `json:"edges"`
}

// GraphNode is one object of the graph; ID is "Kind/namespace/name".
type GraphNode struct {
	ID    string `json:"id"`
	State State  `json:"state"`
}

func (s *Server) detailOf(k fluxobj.Kind, u *unstructured.Unstructured, row *Row) Detail {
	d := Detail{Row: *row, Reconcilable: k.Reconcilable, Suspendable: k.Suspendable,
		Generation: u.GetGeneration(), Conditions: []Condition{}}
	d.Observed, _, _ = unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	d.RequestedAt = u.GetAnnotations()[meta.ReconcileRequestAnnotation]
	d.HandledAt, _, _ = unstructured.NestedString(u.Object, "status", "lastHandledReconcileAt")
	d.Spec, _, _ = unstructured.NestedMap(u.Object, "spec")
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range raw {
		m, _ := c.(map[string]any)
		str := func(f string) string { v, _ := m[f].(string); return v }
		d.Conditions = append(d.Conditions, Condition{str("type"), str("status"), str("reason"), str("message"), str("lastTransitionTime")})
	}
	d.History, _, _ = unstructured.NestedSlice(u.Object, "status", "history")
	_, d.HasInventory, _ = unstructured.NestedSlice(u.Object, "status", "inventory", "entries")
	d.HasInventory = d.HasInventory || k.Kind == "Kustomization" || k.Kind == "HelmRelease"
	d.HasDiff = k.Kind == "Kustomization" || k.Kind == "HelmRelease"
	d.Source = s.sourceOf(u)
	d.Graph = s.graphOf(k, u)
	return d
}

// sourceOf describes the source of u, when it has one the hub holds.
func (s *Server) sourceOf(u *unstructured.Unstructured) *SourceInfo {
	refs, err := fluxobj.SourcesOf(u)
	if err != nil || len(refs) == 0 {
		return nil
	}
	ref := refs[0]
	info := &SourceInfo{Kind: ref.Kind.Kind, Namespace: ref.Namespace, Name: ref.Name}
	src, row, ok := s.hub.Get(objectKey{ref.Kind.Kind, ref.Namespace, ref.Name})
	if !ok {
		return info
	}
	info.State = row.State
	info.URL, _, _ = unstructured.NestedString(src.Object, "spec", "url")
	info.Revision, _, _ = unstructured.NestedString(src.Object, "status", "artifact", "revision")
	if ref.Kind.Kind == "GitRepository" {
		info.CommitURL = commitURL(info.URL, info.Revision)
	}
	return info
}

// gitSHA finds the commit in a Flux revision: "main@sha1:<sha>", "sha1:<sha>" or a bare sha.
var gitSHA = regexp.MustCompile(`(?:^|[@:])([0-9a-f]{40}|[0-9a-f]{64})$`)

// commitURL links a commit on GitHub, GitLab, Bitbucket or Gitea-like hosts whose web
// address is the clone URL without ".git"; "" for hosts it does not know.
func commitURL(repoURL, revision string) string {
	m := gitSHA.FindStringSubmatch(revision)
	if m == nil {
		return ""
	}
	web := webURL(repoURL)
	if web == nil {
		return ""
	}
	switch host := web.Hostname(); {
	case host == "github.com", strings.HasSuffix(host, ".github.com"):
		return web.String() + "/commit/" + m[1]
	case host == "gitlab.com", strings.HasPrefix(host, "gitlab."):
		return web.String() + "/-/commit/" + m[1]
	case host == "bitbucket.org":
		return web.String() + "/commits/" + m[1]
	case host == "codeberg.org", strings.HasPrefix(host, "gitea."):
		return web.String() + "/commit/" + m[1]
	}
	return ""
}

// webURL turns a clone URL (https://, ssh://git@host/, git@host:) into the repository's
// https address; nil when it is not one.
func webURL(repoURL string) *url.URL {
	if strings.HasPrefix(repoURL, "git@") {
		host, path, ok := strings.Cut(strings.TrimPrefix(repoURL, "git@"), ":")
		if !ok {
			return nil
		}
		repoURL = "https://" + host + "/" + path
	}
	u, err := url.Parse(repoURL)
	if err != nil || u.Host == "" {
		return nil
	}
	return &url.URL{Scheme: "https", Host: u.Hostname(), Path: strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), ".git")}
}

// graphOf walks dependsOn from u (Kustomizations and HelmReleases depend on their own kind)
// and adds the objects that depend on u directly.
func (s *Server) graphOf(k fluxobj.Kind, u *unstructured.Unstructured) Graph {
	g := Graph{Nodes: []GraphNode{}, Edges: [][2]string{}}
	if k.Kind != "Kustomization" && k.Kind != "HelmRelease" {
		return g
	}
	seen := map[string]bool{}
	add := func(key objectKey) {
		id := key.String()
		if seen[id] {
			return
		}
		seen[id] = true
		st := Unknown
		if _, row, ok := s.hub.Get(key); ok {
			st = row.State
		}
		g.Nodes = append(g.Nodes, GraphNode{ID: id, State: st})
	}
	self := objectKey{k.Kind, u.GetNamespace(), u.GetName()}
	add(self)
	queue := []objectKey{self}
	for len(queue) > 0 {
		key := queue[0]
		queue = queue[1:]
		obj, _, ok := s.hub.Get(key)
		if !ok {
			continue
		}
		for _, dep := range dependsOn(k.Kind, obj) {
			if !seen[dep.String()] {
				queue = append(queue, dep)
			}
			add(dep)
			g.Edges = append(g.Edges, [2]string{key.String(), dep.String()})
		}
	}
	s.hub.Objects(k.Kind, func(o *unstructured.Unstructured) {
		for _, dep := range dependsOn(k.Kind, o) {
			if dep == self {
				key := objectKey{k.Kind, o.GetNamespace(), o.GetName()}
				add(key)
				g.Edges = append(g.Edges, [2]string{key.String(), self.String()})
			}
		}
	})
	return g
}

// dependsOn reads spec.dependsOn (the namespace defaults to the object's).
func dependsOn(kind string, u *unstructured.Unstructured) []objectKey {
	raw, _, _ := unstructured.NestedSlice(u.Object, "spec", "dependsOn")
	var out []objectKey
	for _, d := range raw {
		m, _ := d.(map[string]any)
		name, _ := m["name"].(string)
		ns, _ := m["namespace"].(string)
		if ns == "" {
			ns = u.GetNamespace()
		}
		if name != "" {
			out = append(out, objectKey{kind, ns, name})
		}
	}
	return out
}
