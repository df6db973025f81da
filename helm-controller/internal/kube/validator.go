package kube

import (
	"sync"

	helmkube "helm.sh/helm/v3/pkg/kube"
	"k8s.io/kubectl/pkg/validation"
)

// validatingFactory keeps the schema validators of a Helm kube client across Builds. Each
// Build asks its factory for a validator, and a new one checks the API server's support of
// server-side field validation for every group version anew, by downloading and parsing
// that group version's OpenAPI v3 document: for a chart of a few objects that is most of an
// install's CPU and allocations. The answer does not change while the client lives (it is
// cached per kind inside the validator, as kubectl does within one command); Invalidate
// drops it with the rest of discovery.
type validatingFactory struct {
	helmkube.Factory
	mu         sync.Mutex
	validators map[string]validation.Schema
}

func (f *validatingFactory) Validator(directive string) (validation.Schema, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.validators[directive]; ok {
		return v, nil
	}
	v, err := f.Factory.Validator(directive)
	if err != nil {
		return nil, err
	}
	if f.validators == nil {
		f.validators = map[string]validation.Schema{}
	}
	f.validators[directive] = v
	return v, nil
}

// forget drops the kept validators.
func (f *validatingFactory) forget() {
	f.mu.Lock()
	f.validators = nil
	f.mu.Unlock()
}
