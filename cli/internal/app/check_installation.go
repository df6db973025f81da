package app

import (
	"context"
	"fmt"
	"slices"
	"sort"

	kubepkg "gotk.dev/cli/pkg/kube"

	semver "github.com/Masterminds/semver/v3"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"gotk.dev/cli/pkg/manifests"
	"gotk.dev/cli/pkg/uninstall"
)

// kubernetesVersionOK compares a server's gitVersion ("v1.37.1", "v1.33.2+k3s1") with
// minKubernetesVersion and returns the parsed version for printing.
func kubernetesVersionOK(gitVersion string) (bool, *semver.Version, error) {
	v, err := semver.NewVersion(gitVersion)
	if err != nil {
		return false, nil, err
	}
	constraint, err := semver.NewConstraint(minKubernetesVersion)
	if err != nil {
		return false, nil, err
	}
	return constraint.Check(v), v, nil
}

// installation is what check learns about the Flux install in a namespace.
type installation struct {
	namespace    string
	version      string
	bootstrapped bool
	deployments  []appsv1.Deployment
}

// readInstallation finds the Flux controllers in ns and the installed version: the namespace's
// version label, else (a namespace Flux did not create) the controllers'. A namespace that a
// Kustomization manages (bootstrap) carries kustomize.toolkit.fluxcd.io/name.
func readInstallation(ctx context.Context, kube *Kube, ns string) (*installation, error) {
	inst := &installation{namespace: ns}
	sel := labels.SelectorFromSet(labels.Set{manifests.PartOfLabel: manifests.PartOfValue}).String()
	list, err := kube.Clientset.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list Deployments in namespace %s: %w", ns, err)
	}
	inst.deployments = list.Items
	sort.Slice(inst.deployments, func(i, j int) bool { return inst.deployments[i].Name < inst.deployments[j].Name })
	namespace, err := kube.Clientset.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return inst, nil
	case err != nil:
		return nil, fmt.Errorf("get namespace %s: %w", ns, err)
	}
	if namespace.Labels[manifests.PartOfLabel] == manifests.PartOfValue {
		inst.version = namespace.Labels[manifests.VersionLabel]
	}
	_, inst.bootstrapped = namespace.Labels["kustomize.toolkit.fluxcd.io/name"]
	if inst.version == "" {
		for _, d := range inst.deployments {
			if v := d.Labels[manifests.VersionLabel]; v != "" {
				inst.version = v
				break
			}
		}
	}
	return inst, nil
}

// checkControllers waits (up to --timeout) for every controller Deployment to be ready and
// prints each with its image.
func (c *Command) checkControllers(ctx context.Context, kube *Kube, inst *installation) bool {
	log := c.Log()
	log.Actionf("checking controllers")
	if len(inst.deployments) == 0 {
		log.Failuref("no Flux controllers found in namespace %s", inst.namespace)
		return false
	}
	names := make([]string, 0, len(inst.deployments))
	for _, d := range inst.deployments {
		names = append(names, d.Name)
	}
	err := kube.WaitDeployments(ctx, log, inst.namespace, names, c.Global.Timeout, func(d *appsv1.Deployment) {
		log.Successf("%s: deployment ready", d.Name)
		for _, ctr := range d.Spec.Template.Spec.Containers {
			log.Actionf("%s", ctr.Image)
		}
	})
	return err == nil
}

// checkCRDs lists the Flux CRDs with their storage versions; every one must be Established,
// and each installed controller's CRDs (as the embedded bundle lists them) must be present.
func (c *Command) checkCRDs(ctx context.Context, kube *Kube, inst *installation) bool {
	log := c.Log()
	log.Actionf("checking crds")
	crds, err := uninstall.ListFluxCRDs(ctx, kube)
	if err != nil {
		log.Failuref("%s", err)
		return false
	}
	ok := true
	present := map[string]bool{}
	for _, crd := range crds {
		present[crd.GetName()] = true
		storage := uninstall.StorageVersion(crd)
		if !kubepkg.CRDEstablished(crd) {
			log.Failuref("%s/%s: not established", crd.GetName(), storage)
			ok = false
			continue
		}
		log.Successf("%s/%s", crd.GetName(), storage)
	}
	want, err := expectedCRDs(inst)
	if err != nil {
		log.Failuref("%s", err)
		return false
	}
	for _, name := range want {
		if !present[name] {
			log.Failuref("%s: not installed", name)
			ok = false
		}
	}
	if len(crds) == 0 && len(want) == 0 {
		log.Failuref("no Flux CRDs installed")
		ok = false
	}
	return ok
}

// expectedCRDs are the CRDs the installed controllers need, by the component label of each
// Deployment and of the bundle's CRDs.
func expectedCRDs(inst *installation) ([]string, error) {
	var components []string
	for _, d := range inst.deployments {
		if c := d.Labels[manifests.ComponentLabel]; c != "" {
			components = append(components, c)
		}
	}
	objs, err := manifests.Load()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range objs {
		if u.GetKind() == "CustomResourceDefinition" && slices.Contains(components, u.GetLabels()[manifests.ComponentLabel]) {
			out = append(out, u.GetName())
		}
	}
	sort.Strings(out)
	return out, nil
}
