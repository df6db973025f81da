package dependency

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/types"
)

// node builds a Node in namespace flux-system (or ns/name) with dependsOn in MakeDependsOn form.
func node(id string, deps ...string) Node {
	ns, name, ok := strings.Cut(id, "/")
	if !ok {
		ns, name = "flux-system", id
	}
	return Node{Namespace: ns, Name: name, DependsOn: meta.MakeDependsOn(deps)}
}

func names(nodes []Node) string {
	s := make([]string, len(nodes))
	for i, n := range nodes {
		s[i] = n.Name
	}
	return strings.Join(s, " ")
}

func fmtCycles(cycles [][]types.NamespacedName) []string {
	var out []string
	for _, c := range cycles {
		s := make([]string, len(c))
		for i, n := range c {
			s[i] = n.String()
		}
		out = append(out, strings.Join(s, " -> "))
	}
	return out
}

// TestSortAndFindCycles checks ordering and cycle reports on small graphs shaped like Flux
// repositories (infra-controllers -> infra-configs -> apps).
func TestSortAndFindCycles(t *testing.T) {
	tests := []struct {
		name       string
		nodes      []Node
		wantOrder  string
		wantCycles []string
	}{
		{name: "empty"},
		{
			name: "flux example layout",
			nodes: []Node{
				node("apps", "infra-configs"),
				node("infra-configs", "infra-controllers"),
				node("infra-controllers"),
				node("monitoring"),
			},
			wantOrder: "infra-controllers infra-configs apps monitoring",
		},
		{
			name: "namespaces default to the dependent's",
			nodes: []Node{
				node("team-a/app", "db", "flux-system/infra"),
				node("team-a/db"),
				node("flux-system/db"),
				node("flux-system/infra"),
			},
			wantOrder: "db infra app db",
		},
		{
			name:      "dependencies outside the set are ignored",
			nodes:     []Node{node("apps", "missing", "other/infra"), node("infra")},
			wantOrder: "apps infra",
		},
		{
			name:      "readyExpr suffix does not change the reference",
			nodes:     []Node{node("apps", "infra@dep.status.ready == true"), node("infra")},
			wantOrder: "infra apps",
		},
		{
			name:       "two-node cycle",
			nodes:      []Node{node("a", "b"), node("b", "a")},
			wantCycles: []string{"flux-system/a -> flux-system/b -> flux-system/a"},
		},
		{
			name:       "self dependency",
			nodes:      []Node{node("ok"), node("a", "a")},
			wantCycles: []string{"flux-system/a -> flux-system/a"},
		},
		{
			name: "three-node cycle behind an acyclic prefix, reported from its first node",
			nodes: []Node{
				node("entry", "c"),
				node("c", "d"),
				node("b", "c"),
				node("d", "b", "leaf"),
				node("leaf"),
			},
			wantCycles: []string{"flux-system/c -> flux-system/d -> flux-system/b -> flux-system/c"},
		},
		{
			name: "shortest cycle through the first node",
			nodes: []Node{
				node("a", "b", "c"),
				node("b", "c"),
				node("c", "a"),
			},
			wantCycles: []string{"flux-system/a -> flux-system/c -> flux-system/a"},
		},
		{
			name: "two independent cycles in input order",
			nodes: []Node{
				node("x/p", "q"), node("a", "b"), node("x/q", "p"), node("b", "a"),
			},
			wantCycles: []string{"x/p -> x/q -> x/p", "flux-system/a -> flux-system/b -> flux-system/a"},
		},
		{
			name:       "cross-namespace cycle",
			nodes:      []Node{node("team-a/app", "flux-system/infra"), node("flux-system/infra", "team-a/app")},
			wantCycles: []string{"team-a/app -> flux-system/infra -> team-a/app"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cycles := fmtCycles(FindCycles(tt.nodes))
			if !slices.Equal(cycles, tt.wantCycles) {
				t.Errorf("FindCycles = %q, want %q", cycles, tt.wantCycles)
			}
			sorted, err := Sort(tt.nodes)
			if len(tt.wantCycles) > 0 {
				var ce *CycleError
				if !errors.As(err, &ce) || err.Error() != "circular dependency: "+tt.wantCycles[0] {
					t.Errorf("Sort error = %v, want circular dependency: %s", err, tt.wantCycles[0])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(sorted); got != tt.wantOrder {
				t.Errorf("Sort = %q, want %q", got, tt.wantOrder)
			}
		})
	}
}

// TestSortLargeChain checks a long chain (deep recursion) and that every node follows its
// dependency.
func TestSortLargeChain(t *testing.T) {
	const n = 5000
	nodes := make([]Node, n)
	for i := range n {
		// node i depends on node i+1; the last depends on nothing.
		nodes[i] = node(fmt.Sprintf("k%d", i))
		if i+1 < n {
			nodes[i] = node(fmt.Sprintf("k%d", i), fmt.Sprintf("k%d", i+1))
		}
	}
	sorted, err := Sort(nodes)
	if err != nil {
		t.Fatal(err)
	}
	for i, nd := range sorted {
		if want := fmt.Sprintf("k%d", n-1-i); nd.Name != want {
			t.Fatalf("position %d: %s, want %s", i, nd.Name, want)
		}
	}
	nodes[n-1] = node(fmt.Sprintf("k%d", n-1), "k0")
	cycles := FindCycles(nodes)
	if len(cycles) != 1 || len(cycles[0]) != n+1 {
		t.Fatalf("got cycles %d, want one of length %d", len(cycles), n+1)
	}
}
