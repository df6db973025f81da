// Package manifests is the install bundle the flux CLI embeds and the options `flux install`
// applies to it.
//
// install.yaml is manifests/install rendered by `make generate-manifests` (see gen/): the
// controllers, their CRDs, RBAC and network policies for the default namespace flux-system,
// every object labelled app.kubernetes.io/part-of=flux and, when it belongs to one controller,
// app.kubernetes.io/component=<controller>. It is committed like other generated files so a
// clean clone builds, and `make verify` fails when it drifts from manifests/.
//
// Generate selects the components and applies the options as plain object edits (namespace,
// images, controller flags, tolerations, ...): the bundle is fixed and small, so explicit
// edits say exactly what each option changes and need no kustomize run at install time.
package manifests

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// bundle is install.yaml, read only.
//
//go:embed install.yaml
var bundle []byte

// Labels every installed object carries (ComponentLabel only objects of one controller).
const (
	PartOfLabel    = "app.kubernetes.io/part-of"
	PartOfValue    = "flux"
	InstanceLabel  = "app.kubernetes.io/instance"
	VersionLabel   = "app.kubernetes.io/version"
	ComponentLabel = "app.kubernetes.io/component"
)

// Defaults of the install options.
const (
	DefaultNamespace     = "flux-system"
	DefaultRegistry      = "ghcr.io/gotk-dev"
	DefaultClusterDomain = "cluster.local"
	DefaultLogLevel      = "info"
)

// Bundle returns a copy of the embedded install.yaml.
func Bundle() []byte { return bytes.Clone(bundle) }

// Load parses the embedded bundle. Every call returns fresh objects the caller may edit.
func Load() ([]*unstructured.Unstructured, error) {
	objs, err := Parse(bundle)
	if err != nil {
		return nil, fmt.Errorf("embedded install bundle: %w", err)
	}
	return objs, nil
}

// Parse reads the Kubernetes objects of a multi-document YAML stream, skipping empty documents.
func Parse(data []byte) ([]*unstructured.Unstructured, error) {
	// Documents may be large (CRDs): the reader grows its buffer as needed.
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if t := bytes.TrimSpace(js); len(t) == 0 || bytes.Equal(t, []byte("null")) || bytes.Equal(t, []byte("{}")) {
			continue
		}
		// Unstructured's own decoding keeps integers as int64, which the unstructured
		// helpers and the API server's schema expect.
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if u.GetKind() == "" || u.GetAPIVersion() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("document %d: not a Kubernetes object (kind, apiVersion and metadata.name are required)", i)
		}
		objs = append(objs, u)
	}
}

// Marshal writes objs as one YAML stream, each document starting with "---".
func Marshal(objs []*unstructured.Unstructured) ([]byte, error) {
	var b bytes.Buffer
	for _, o := range objs {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ID(o), err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	return b.Bytes(), nil
}

// kindRank is the order objects are listed and applied in: what others refer to first.
func kindRank(kind string) int {
	switch kind {
	case "Namespace":
		return 0
	case "CustomResourceDefinition":
		return 1
	case "ServiceAccount":
		return 2
	case "ClusterRole", "Role":
		return 3
	case "ClusterRoleBinding", "RoleBinding":
		return 4
	case "ConfigMap", "Secret":
		return 5
	case "Service":
		return 6
	case "Deployment":
		return 7
	case "NetworkPolicy":
		return 8
	}
	return 9
}

// Sort orders objs by kind (namespaces and CRDs first, network policies last), then by
// namespace and name, so output and apply order never depend on the bundle's layout.
func Sort(objs []*unstructured.Unstructured) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		if ra, rb := kindRank(a.GetKind()), kindRank(b.GetKind()); ra != rb {
			return ra < rb
		}
		if a.GetKind() != b.GetKind() {
			return a.GetKind() < b.GetKind()
		}
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}

// ID names an object the way flux prints it: Kind/namespace/name or Kind/name.
func ID(u *unstructured.Unstructured) string {
	if ns := u.GetNamespace(); ns != "" {
		return u.GetKind() + "/" + ns + "/" + u.GetName()
	}
	return u.GetKind() + "/" + u.GetName()
}
