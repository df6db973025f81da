package manifests

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// setNamespace moves u from the bundle's namespace to ns: the Namespace object itself, the
// namespace of namespaced objects, cluster-wide RBAC names that end in -<namespace> (so
// several installs can share a cluster), and binding subjects.
func setNamespace(u *unstructured.Unstructured, ns string) {
	if u.GetKind() == "Namespace" {
		u.SetName(ns)
		return
	}
	if u.GetNamespace() != "" {
		u.SetNamespace(ns)
	}
	renameSuffix := func(name string) string {
		if base, ok := strings.CutSuffix(name, "-"+DefaultNamespace); ok {
			return base + "-" + ns
		}
		return name
	}
	switch u.GetKind() {
	case "ClusterRole", "ClusterRoleBinding":
		u.SetName(renameSuffix(u.GetName()))
	}
	if ref, ok := u.Object["roleRef"].(map[string]any); ok {
		if name, ok := ref["name"].(string); ok {
			ref["name"] = renameSuffix(name)
		}
	}
	for _, s := range subjects(u) {
		if s["kind"] == "ServiceAccount" {
			s["namespace"] = ns
		}
	}
}

// subjects are a binding's subjects, edited in place.
func subjects(u *unstructured.Unstructured) []map[string]any {
	list, _ := u.Object["subjects"].([]any)
	var out []map[string]any
	for _, s := range list {
		if m, ok := s.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// keepSelectedSubjects drops the service accounts of controllers that are not installed from
// a binding; it reports false when no subject is left, as the binding would grant nothing.
func keepSelectedSubjects(u *unstructured.Unstructured, components []string) (bool, error) {
	var keep []any
	for _, s := range subjects(u) {
		name, _ := s["name"].(string)
		if s["kind"] == "ServiceAccount" && slices.Contains(AllComponents(), name) && !slices.Contains(components, name) {
			continue
		}
		keep = append(keep, s)
	}
	if len(keep) == 0 {
		return false, nil
	}
	u.Object["subjects"] = keep
	return true, nil
}

// editDeployment sets a controller's image, flags, tolerations and pull secret.
func editDeployment(u *unstructured.Unstructured, o Options) error {
	component := u.GetLabels()[ComponentLabel]
	if component == "" {
		return fmt.Errorf("deployment has no %s label", ComponentLabel)
	}
	spec, ok, err := unstructured.NestedMap(u.Object, "spec", "template", "spec")
	if err != nil || !ok {
		return fmt.Errorf("deployment has no pod template: %v", err)
	}
	containers, _ := spec["containers"].([]any)
	if len(containers) == 0 {
		return fmt.Errorf("deployment has no containers")
	}
	for _, c := range containers {
		ctr, ok := c.(map[string]any)
		if !ok {
			continue
		}
		ctr["image"] = Image(o.Registry, component, o.Version)
		args, _ := ctr["args"].([]any)
		ctr["args"] = editArgs(args, o)
	}
	for _, key := range o.TolerationKeys {
		tolerations, _ := spec["tolerations"].([]any)
		spec["tolerations"] = append(tolerations, map[string]any{"key": key, "operator": "Exists"})
	}
	if o.ImagePullSecret != "" {
		spec["imagePullSecrets"] = []any{map[string]any{"name": o.ImagePullSecret}}
	}
	return unstructured.SetNestedMap(u.Object, spec, "spec", "template", "spec")
}

// Image is the image reference of a controller: <registry>/<controller>:<version>.
func Image(registry, component, version string) string {
	return strings.TrimSuffix(registry, "/") + "/" + component + ":" + version
}

// editArgs applies the options that are controller flags. Flags the bundle does not give a
// controller are not added (notification-controller has no --events-addr, for one).
func editArgs(args []any, o Options) []any {
	notification := slices.Contains(o.Components, NotificationController)
	var out []any
	for _, a := range args {
		s, ok := a.(string)
		if !ok {
			out = append(out, a)
			continue
		}
		name, _, _ := strings.Cut(s, "=")
		switch name {
		case "--log-level":
			s = "--log-level=" + o.LogLevel
		case "--watch-all-namespaces":
			s = "--watch-all-namespaces=" + strconv.FormatBool(o.WatchAllNamespaces)
		case "--events-addr":
			// Without notification-controller every event POST would fail and be logged.
			if !notification {
				continue
			}
		}
		s = strings.ReplaceAll(s, ".svc."+DefaultClusterDomain+".", ".svc."+o.ClusterDomain+".")
		out = append(out, s)
	}
	return out
}
