package ssa

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/pkg/inventory"
)

// waitForCRDs waits until the CustomResourceDefinitions among objs[idx] are Established and
// their kinds are known to the client's RESTMapper, so the next stages can apply objects of
// those kinds. CRDs whose apply response already says Established and that did not change
// cost nothing; others are polled (one GET per poll) until established, bounded by timeout.
func (m *Manager) waitForCRDs(ctx context.Context, objs []*unstructured.Unstructured, idx []int, results []*ChangeSetEntry, timeout time.Duration) error {
	var pending []*unstructured.Unstructured
	for _, i := range idx {
		if u := objs[i]; isCRD(u) && results[i] != nil && results[i].Action != Skipped {
			if results[i].Action != Unchanged || !crdEstablished(u) {
				pending = append(pending, u)
			}
		}
	}
	if len(pending) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var errs []error
	for _, crd := range pending {
		errs = append(errs, m.waitForCRD(ctx, crd, timeout))
	}
	return errors.Join(errs...)
}

func (m *Manager) waitForCRD(ctx context.Context, crd *unstructured.Unstructured, timeout time.Duration) error {
	id := inventory.FromObject(crd)
	reason := "not established"
	err := poll(ctx, 50*time.Millisecond, func() (bool, error) {
		if crdEstablished(crd) {
			return true, nil
		}
		if msg, rejected := crdNamesRejected(crd); rejected {
			return false, fmt.Errorf("names not accepted: %s", msg)
		}
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(crd.GroupVersionKind())
		if err := m.client.Get(ctx, client.ObjectKeyFromObject(crd), live); err != nil {
			return false, err
		}
		crd.Object = live.Object
		if msg, rejected := crdNamesRejected(crd); rejected {
			return false, fmt.Errorf("names not accepted: %s", msg)
		}
		return crdEstablished(crd), nil
	}, func() string { return fmt.Sprintf("%s after %s", reason, timeout) })
	if err != nil {
		return objectError(id, err)
	}

	// The kinds must also be served: discovery lags a little behind Established.
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	mapper := m.client.RESTMapper()
	for _, v := range versions {
		vm, _ := v.(map[string]any)
		name, _ := vm["name"].(string)
		if served, _ := vm["served"].(bool); !served || name == "" {
			continue
		}
		gk := schema.GroupKind{Group: group, Kind: kind}
		reason = fmt.Sprintf("%s/%s, Kind=%s not served", group, name, kind)
		err := poll(ctx, 50*time.Millisecond, func() (bool, error) {
			_, err := mapper.RESTMapping(gk, name)
			return err == nil, nil
		}, func() string { return fmt.Sprintf("%s after %s", reason, timeout) })
		if err != nil {
			return objectError(id, err)
		}
	}
	return nil
}

func crdCondition(crd *unstructured.Unstructured, condType string) (status, message string) {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		if t, _ := cm["type"].(string); t == condType {
			status, _ = cm["status"].(string)
			message, _ = cm["message"].(string)
			return status, message
		}
	}
	return "", ""
}

func crdEstablished(crd *unstructured.Unstructured) bool {
	s, _ := crdCondition(crd, "Established")
	return s == "True"
}

func crdNamesRejected(crd *unstructured.Unstructured) (string, bool) {
	s, msg := crdCondition(crd, "NamesAccepted")
	return msg, s == "False"
}
