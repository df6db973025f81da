// Package postrender is the post-rendering of a HelmRelease: spec.postRenderers (kustomize
// patches and images), spec.commonMetadata and the labels naming the HelmRelease, applied
// to what Helm rendered. helm-controller releases with it and `flux diff helmrelease`
// renders with it, so both see the same objects.
package postrender

import (
	"bytes"
	"fmt"

	"github.com/fluxcd/pkg/apis/kustomize"
	"helm.sh/helm/v3/pkg/postrender"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/resid"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	v2 "gotk.dev/helm-controller/api/v2"
)

// PostRenderer returns the post-renderer of obj: spec.postRenderers in order (kustomize
// patches and images), then spec.commonMetadata (labels and annotations on every object),
// then the origin labels helm.toolkit.fluxcd.io/name and /namespace naming the
// HelmRelease, which every object of a release carries. Helm v3 passes only the templates
// to a post-renderer, never the hooks (postRenderStrategy nohooks).
func PostRenderer(obj *v2.HelmRelease) (postrender.PostRenderer, error) {
	var chain chainRenderer
	for i, pr := range obj.Spec.PostRenderers {
		if pr.Kustomize != nil {
			chain = append(chain, &kustomizeRenderer{index: i, spec: pr.Kustomize})
		}
	}
	if cm := obj.Spec.CommonMetadata; cm != nil && (len(cm.Labels) > 0 || len(cm.Annotations) > 0) {
		chain = append(chain, &metadataRenderer{labels: cm.Labels, annotations: cm.Annotations})
	}
	chain = append(chain, &metadataRenderer{labels: map[string]string{
		v2.NameLabel:      obj.Name,
		v2.NamespaceLabel: obj.Namespace,
	}})
	return chain, nil
}

// chainRenderer runs post-renderers one after the other.
type chainRenderer []postrender.PostRenderer

func (c chainRenderer) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	var err error
	for _, r := range c {
		if in, err = r.Run(in); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// metadataRenderer sets labels and annotations in the metadata of every object (not in
// selectors or pod templates), overriding entries with the same key.
type metadataRenderer struct {
	labels, annotations map[string]string
}

func (m *metadataRenderer) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	nodes, err := kio.FromBytes(in.Bytes())
	if err != nil {
		return nil, fmt.Errorf("post-render: parse rendered manifests: %w", err)
	}
	for _, n := range nodes {
		for k, v := range m.labels {
			if err := n.PipeE(kyaml.SetLabel(k, v)); err != nil {
				return nil, fmt.Errorf("post-render: set label %s on %s: %w", k, objectName(n), err)
			}
		}
		for k, v := range m.annotations {
			if err := n.PipeE(kyaml.SetAnnotation(k, v)); err != nil {
				return nil, fmt.Errorf("post-render: set annotation %s on %s: %w", k, objectName(n), err)
			}
		}
	}
	out, err := kio.StringAll(nodes)
	if err != nil {
		return nil, err
	}
	return bytes.NewBufferString(out), nil
}

func objectName(n *kyaml.RNode) string {
	return fmt.Sprintf("%s %s/%s", n.GetKind(), n.GetNamespace(), n.GetName())
}

// kustomizeRenderer builds the manifests with one postRenderers[].kustomize entry, in
// memory: the manifests are the only resource of a kustomization holding the patches and
// images.
type kustomizeRenderer struct {
	index int
	spec  *v2.Kustomize
}

func (k *kustomizeRenderer) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	fs := filesys.MakeFsInMemory()
	if err := fs.WriteFile("/manifests.yaml", in.Bytes()); err != nil {
		return nil, err
	}
	kz := types.Kustomization{
		TypeMeta:  types.TypeMeta{APIVersion: types.KustomizationVersion, Kind: types.KustomizationKind},
		Resources: []string{"manifests.yaml"},
	}
	for _, p := range k.spec.Patches {
		kz.Patches = append(kz.Patches, types.Patch{Patch: p.Patch, Target: selector(p.Target)})
	}
	for _, img := range k.spec.Images {
		kz.Images = append(kz.Images, types.Image{Name: img.Name, NewName: img.NewName, NewTag: img.NewTag, Digest: img.Digest})
	}
	data, err := yaml.Marshal(kz)
	if err != nil {
		return nil, err
	}
	if err := fs.WriteFile("/kustomization.yaml", data); err != nil {
		return nil, err
	}
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/")
	if err != nil {
		return nil, fmt.Errorf("spec.postRenderers[%d].kustomize: %w", k.index, err)
	}
	out, err := rm.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("spec.postRenderers[%d].kustomize: %w", k.index, err)
	}
	return bytes.NewBuffer(out), nil
}

func selector(s *kustomize.Selector) *types.Selector {
	if s == nil {
		return nil
	}
	return &types.Selector{
		ResId: resid.ResId{
			Gvk:       resid.Gvk{Group: s.Group, Version: s.Version, Kind: s.Kind},
			Name:      s.Name,
			Namespace: s.Namespace,
		},
		AnnotationSelector: s.AnnotationSelector,
		LabelSelector:      s.LabelSelector,
	}
}
