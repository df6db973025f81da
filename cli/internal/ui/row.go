package ui

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/cli/internal/fluxobj"
)

// State is how the overview classes an object, worst first: what needs attention sorts to
// the top.
type State string

// The states, in the order the overview lists them.
const (
	// Stalled: Stalled=True, it will not recover without a change.
	Stalled State = "Stalled"
	// Failed: Ready=False and retrying.
	Failed State = "Failed"
	// Reconciling: Reconciling=True, or the controller has not seen the latest generation.
	Reconciling State = "Reconciling"
	// Suspended: spec.suspend is true.
	Suspended State = "Suspended"
	// Ready: Ready=True at the current generation (or a static object the API admitted).
	Ready State = "Ready"
	// Unknown: no Ready condition yet.
	Unknown State = "Unknown"
)

// States lists every state in overview order.
func States() []State { return []State{Stalled, Failed, Reconciling, Suspended, Unknown, Ready} }

func (s State) rank() int {
	for i, x := range States() {
		if x == s {
			return i
		}
	}
	return len(States())
}

// Row is one object as the overview lists it.
type Row struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	State     State  `json:"state"`
	// Ready is the Ready condition's status ("True", "False", "Unknown").
	Ready     string `json:"ready"`
	Message   string `json:"message,omitempty"`
	Revision  string `json:"revision,omitempty"`
	Suspended bool   `json:"suspended,omitempty"`
	// search is what the search box matches, lower-cased.
	search string
}

// rowOf summarizes u with the same reading of its status as `flux get`.
func rowOf(k fluxobj.Kind, u *unstructured.Unstructured) *Row {
	st := fluxobj.StatusOf(u)
	rs := fluxobj.StateOf(u)
	r := &Row{
		Kind: k.Kind, Namespace: u.GetNamespace(), Name: u.GetName(),
		Ready: st.Ready, Message: st.Message, Revision: st.Revision, Suspended: st.Suspended,
	}
	switch {
	case st.Suspended:
		r.State = Suspended
	case rs.Stalled:
		r.State = Stalled
	case k.Static && rs.Ready == "":
		// v1beta3 Alerts and Providers have no status: admitted means in effect.
		r.State, r.Ready = Ready, "True"
	case st.Ready == "False":
		r.State = Failed
	case rs.Reconciling || (st.Ready == "Unknown" && rs.Ready != ""):
		r.State = Reconciling
	case st.Ready == "True":
		r.State = Ready
	default:
		r.State = Unknown
	}
	r.search = strings.ToLower(strings.Join([]string{r.Kind, r.Namespace, r.Name, r.Message, r.Revision}, " "))
	return r
}

func (r *Row) less(o *Row) bool {
	if a, b := r.State.rank(), o.State.rank(); a != b {
		return a < b
	}
	if r.Kind != o.Kind {
		return kindRank(r.Kind) < kindRank(o.Kind)
	}
	if r.Namespace != o.Namespace {
		return r.Namespace < o.Namespace
	}
	return r.Name < o.Name
}

// kindRank orders kinds as `flux get all` does.
func kindRank(kind string) int {
	for i, k := range fluxobj.Kinds() {
		if k.Kind == kind {
			return i
		}
	}
	return 1 << 10
}
