package dependency

import (
	"slices"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/types"
)

// Node is an object and its spec.dependsOn, for ordering and cycle detection. All nodes are of
// one kind (Kustomizations depend on Kustomizations, HelmReleases on HelmReleases).
type Node struct {
	Namespace string
	Name      string
	DependsOn []meta.DependencyReference
}

// graph is the dependency graph of a node set: edges[i] lists the indexes of the nodes that node
// i depends on, in spec order. References to objects outside the set are dropped: they cannot
// be part of a cycle within it.
type graph struct {
	names []types.NamespacedName
	edges [][]int
}

func newGraph(nodes []Node) graph {
	g := graph{names: make([]types.NamespacedName, len(nodes)), edges: make([][]int, len(nodes))}
	index := make(map[types.NamespacedName]int, len(nodes))
	for i, n := range nodes {
		g.names[i] = types.NamespacedName{Namespace: n.Namespace, Name: n.Name}
		if _, dup := index[g.names[i]]; !dup {
			index[g.names[i]] = i
		}
	}
	for i, n := range nodes {
		for _, ref := range n.DependsOn {
			if j, ok := index[depName(n.Namespace, ref)]; ok {
				g.edges[i] = append(g.edges[i], j)
			}
		}
	}
	return g
}

// Sort orders nodes so that each comes after the nodes it depends on, keeping the input order
// where dependencies allow (the flux CLI prints trees in this order; a controller can use it to
// apply a set in dependency order). A cycle is a *CycleError naming it.
func Sort(nodes []Node) ([]Node, error) {
	if c := FindCycles(nodes); len(c) > 0 {
		return nil, &CycleError{Cycle: c[0]}
	}
	g := newGraph(nodes)
	const (
		unvisited = iota
		done
	)
	state := make([]int, len(nodes))
	out := make([]Node, 0, len(nodes))
	var visit func(i int)
	visit = func(i int) {
		if state[i] == done {
			return
		}
		state[i] = done // no cycles, so marking before descending is safe
		for _, j := range g.edges[i] {
			visit(j)
		}
		out = append(out, nodes[i])
	}
	for i := range nodes {
		visit(i)
	}
	return out, nil
}

// FindCycles returns one cycle for every group of nodes that depend on each other (a strongly
// connected component with more than one node, or a node depending on itself). Each cycle
// starts and ends at the group's first node in input order and follows dependsOn edges, e.g.
// [a b a]. Groups appear in the input order of their first node.
func FindCycles(nodes []Node) [][]types.NamespacedName {
	g := newGraph(nodes)
	comps := g.stronglyConnected()
	var cycles [][]types.NamespacedName
	for _, comp := range comps {
		first := slices.Min(comp)
		if len(comp) == 1 && !slices.Contains(g.edges[first], first) {
			continue
		}
		cycles = append(cycles, g.cycleThrough(first, comp))
	}
	slices.SortFunc(cycles, func(a, b []types.NamespacedName) int {
		return g.indexOf(a[0]) - g.indexOf(b[0])
	})
	return cycles
}

func (g graph) indexOf(n types.NamespacedName) int { return slices.Index(g.names, n) }

// stronglyConnected returns the strongly connected components (Tarjan's algorithm), each as
// node indexes.
func (g graph) stronglyConnected() [][]int {
	n := len(g.names)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var comps [][]int
	next := 0
	var strong func(v int)
	strong = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range g.edges[v] {
			if index[w] < 0 {
				strong(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var comp []int
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			comp = append(comp, w)
			if w == v {
				break
			}
		}
		comps = append(comps, comp)
	}
	for v := range n {
		if index[v] < 0 {
			strong(v)
		}
	}
	return comps
}

// cycleThrough returns a shortest cycle from start back to start inside comp (breadth-first
// search over edges within the component), as names.
func (g graph) cycleThrough(start int, comp []int) []types.NamespacedName {
	in := make(map[int]bool, len(comp))
	for _, v := range comp {
		in[v] = true
	}
	prev := map[int]int{}
	queue := []int{start}
	end := -1
	for len(queue) > 0 && end < 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range g.edges[v] {
			if !in[w] {
				continue
			}
			if w == start {
				end = v
				break
			}
			if _, seen := prev[w]; !seen {
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	// Walk back from the node that closes the cycle.
	path := []int{start}
	for v := end; v != start; v = prev[v] {
		path = append(path, v)
	}
	path = append(path, start)
	slices.Reverse(path[1 : len(path)-1])
	names := make([]types.NamespacedName, len(path))
	for i, v := range path {
		names[i] = g.names[v]
	}
	return names
}
