package health

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// fluxGroupSuffix marks the API groups whose kinds follow Flux's condition conventions.
const fluxGroupSuffix = ".toolkit.fluxcd.io"

// isFluxGroup reports whether group is a Flux API group (source, kustomize, helm, ...).
func isFluxGroup(group string) bool { return strings.HasSuffix(group, fluxGroupSuffix) }

// fluxStatus computes the health of a Flux object. kstatus alone treats Ready=False without
// Reconciling or Stalled as in progress forever and a stale Ready=True as current, so Flux kinds
// get their own rule:
//   - being deleted -> Terminating;
//   - status.observedGeneration missing or behind metadata.generation -> InProgress (the
//     conditions describe an older spec);
//   - Ready=True -> Current;
//   - Ready=False with Stalled=True -> Failed with the Stalled (else Ready) message;
//   - Ready=False with Reconciling=True -> InProgress (the controller is retrying);
//   - Ready=False otherwise -> Failed with the Ready message (the controller gave up until
//     something changes);
//   - Ready missing or Unknown -> InProgress.
//
// Static Flux objects, which no controller writes status for, are Current (see isStaticFlux).
func fluxStatus(group string, obj *unstructured.Unstructured) Result {
	m := obj.Object
	if md, _ := m["metadata"].(map[string]any); md["deletionTimestamp"] != nil {
		return Result{Status: Terminating, Message: "Resource scheduled for deletion"}
	}
	if isStaticFlux(group, obj.GetKind(), m) {
		return Result{Status: Current, Message: "Resource is static, no controller reconciles its status"}
	}
	if gen, ok := int64Field(m, "metadata", "generation"); ok {
		obs, ok := int64Field(m, "status", "observedGeneration")
		if !ok {
			return Result{Status: InProgress, Message: fmt.Sprintf("%s generation %d is not observed yet", obj.GetKind(), gen)}
		}
		if obs != gen {
			return Result{Status: InProgress, Message: fmt.Sprintf("%s generation is %d, but latest observed generation is %d", obj.GetKind(), gen, obs)}
		}
	}
	ready, ok := findCondition(m, "Ready")
	if !ok {
		return Result{Status: InProgress, Message: "waiting for the Ready condition"}
	}
	switch ready.Status {
	case "True":
		return Result{Status: Current, Message: ready.Message}
	case "False":
		if stalled, ok := findCondition(m, "Stalled"); ok && stalled.Status == "True" {
			msg := stalled.Message
			if msg == "" {
				msg = ready.Message
			}
			return Result{Status: Failed, Message: msg}
		}
		if rec, ok := findCondition(m, "Reconciling"); ok && rec.Status == "True" {
			return Result{Status: InProgress, Message: ready.Message}
		}
		return Result{Status: Failed, Message: ready.Message}
	default:
		return Result{Status: InProgress, Message: ready.Message}
	}
}

// isStaticFlux reports Flux objects that never get a status, which would otherwise wait forever
// for a Ready condition: notification Alerts and Providers (v1beta3 has no status subresource;
// an object still carrying conditions from an older API version is judged by them) and
// HelmRepositories of type oci (only a configuration holder for OCI charts).
func isStaticFlux(group, kind string, obj map[string]any) bool {
	switch {
	case group == "notification.toolkit.fluxcd.io" && (kind == "Alert" || kind == "Provider"):
		status, _ := obj["status"].(map[string]any)
		conds, _ := status["conditions"].([]any)
		return len(conds) == 0
	case group == "source.toolkit.fluxcd.io" && kind == "HelmRepository":
		spec, _ := obj["spec"].(map[string]any)
		return spec["type"] == "oci"
	}
	return false
}
