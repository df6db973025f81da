package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/cli/internal/manifests"
	"gotk.dev/pkg/git"
	"gotk.dev/pkg/kustomize"
)

// bootstrapRun is one bootstrap: what to commit where, how this machine reaches the
// repository, and what the cluster's sync objects and Git credentials are. bootstrap git and
// bootstrap github fill it in; run does the rest, the same way for both.
type bootstrapRun struct {
	c       *Command
	install manifests.Options
	remote  *bootstrapRemote
	branch  string
	// path is the cluster's directory in the repository ("" for the root).
	path     string
	sync     bootstrapSync
	creds    bootstrapCredentials
	author   bootstrapAuthor
	appendix string
	// onPublicKey runs when a Secret with a new SSH key is about to be applied: bootstrap git
	// asks the user to give the key access, bootstrap github registers it as a deploy key.
	onPublicKey func(ctx context.Context, publicKey []byte) error
}

// fluxDir is the repository directory holding the Flux manifests: <path>/<namespace>.
func (b *bootstrapRun) fluxDir() string { return path.Join(b.path, b.install.Namespace) }

func (b *bootstrapRun) file(name string) string { return path.Join(b.fluxDir(), name) }

// message adds --commit-message-appendix to a commit message.
func (b *bootstrapRun) message(m string) string {
	if b.appendix == "" {
		return m
	}
	return m + "\n\n" + b.appendix
}

// run commits the components, installs them when the cluster does not manage them from Git
// yet, creates the Git credentials Secret, commits and applies the sync objects, and waits
// until the cluster has reconciled the pushed revision and the controllers are healthy. The
// cluster is checked first, so an unreachable cluster fails before anything is pushed.
func (b *bootstrapRun) run(ctx context.Context) error {
	log := b.c.Log()
	deadline := time.Now().Add(b.c.Global.Timeout)
	kube, _, err := b.c.connect(ctx)
	if err != nil {
		return err
	}
	if err := b.checkSyncPath(ctx, kube); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "flux-bootstrap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	log.Actionf("cloning branch %q from Git repository %q", b.branch, b.remote.url)
	exists, err := b.remote.clone(ctx, dir, b.branch)
	if err != nil {
		return err
	}
	if !exists {
		log.Actionf("branch %q does not exist yet: the first commit creates it", b.branch)
	}
	log.Successf("cloned repository")

	if err := b.reconcileComponents(ctx, kube, dir, deadline); err != nil {
		return err
	}
	if err := b.reconcileSecret(ctx, kube, deadline); err != nil {
		return err
	}
	if err := b.reconcileSync(ctx, kube, dir); err != nil {
		return err
	}
	head, err := bootstrapHead(dir)
	if err != nil {
		return err
	}
	revision := git.Revision(b.branch, head)
	for _, kind := range []string{"GitRepository", "Kustomization"} {
		if err := b.waitReconciled(ctx, kube, kind, revision, deadline); err != nil {
			return err
		}
	}
	log.Actionf("confirming components are healthy")
	if err := waitDeployments(ctx, kube, log, b.install.Namespace, b.install.Components, time.Until(deadline), func(d *appsv1.Deployment) {
		log.Successf("%s: deployment ready", d.Name)
	}); err != nil {
		return err
	}
	log.Successf("all components are healthy")
	return nil
}

// reconcileComponents writes gotk-components.yaml (and gotk-sync.yaml, committed later, so
// a kustomization listing both builds), commits and pushes it when it changed, and installs
// the components unless the cluster already applies them from Git.
func (b *bootstrapRun) reconcileComponents(ctx context.Context, kube *Kube, dir string, deadline time.Time) error {
	log := b.c.Log()
	log.Actionf("generating component manifests")
	objs, err := manifests.Generate(b.install)
	if err != nil {
		return err
	}
	components, err := bootstrapComponentsYAML(b.install, objs)
	if err != nil {
		return err
	}
	syncYAML, err := b.sync.yaml()
	if err != nil {
		return err
	}
	if err := writeBootstrapFile(dir, b.file(bootstrapComponentsFile), components); err != nil {
		return err
	}
	if err := writeBootstrapFile(dir, b.file(bootstrapSyncFile), syncYAML); err != nil {
		return err
	}
	log.Successf("generated component manifests")
	if err := b.commitAndPush(ctx, dir, "component manifests", fmt.Sprintf("Add Flux %s component manifests", b.install.Version),
		b.file(bootstrapComponentsFile)); err != nil {
		return err
	}
	must, err := b.mustInstall(ctx, kube)
	if err != nil {
		return err
	}
	if must {
		// The directory's kustomization, when the user wrote one, patches the components:
		// install what it builds, as the cluster will apply it from Git.
		if built, err := b.buildFluxDir(dir); err != nil {
			return err
		} else if built != nil {
			objs = nil
			for _, u := range built {
				if !isBootstrapSyncObject(u) {
					objs = append(objs, u)
				}
			}
		}
		log.Actionf("installing components in %q namespace", b.install.Namespace)
		if _, err := b.c.applyComponents(ctx, kube, objs, deadline, func(*unstructured.Unstructured, string) {}); err != nil {
			return err
		}
		log.Successf("installed components")
	}
	log.Successf("reconciled components")
	return nil
}

// commitAndPush commits files and pushes them, or says they are up to date.
func (b *bootstrapRun) commitAndPush(ctx context.Context, dir, what, message string, files ...string) error {
	log := b.c.Log()
	hash, err := commitBootstrapFiles(dir, files, b.message(message), b.author)
	if err != nil {
		return err
	}
	if hash == "" {
		log.Successf("%s are up to date", what)
		return nil
	}
	log.Successf("committed %s to %q (%q)", what, b.branch, hash)
	log.Actionf("pushing %s to %q", what, b.remote.url)
	return b.remote.push(ctx, dir, b.branch)
}

// buildFluxDir builds the Flux directory's kustomization (nil, nil when there is none).
func (b *bootstrapRun) buildFluxDir(dir string) ([]*unstructured.Unstructured, error) {
	k, err := readBootstrapFile(dir, b.file(bootstrapKustomizationFile))
	if err != nil || k == nil {
		return nil, err
	}
	objs, err := kustomize.Build(dir, b.fluxDir(), kustomize.Options{})
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", b.fluxDir(), err)
	}
	return objs, nil
}

// syncKey is the namespace/name of the sync objects (and the flux-system Kustomization).
func (b *bootstrapRun) syncKey() client.ObjectKey {
	return client.ObjectKey{Namespace: b.install.Namespace, Name: b.install.Namespace}
}

// existingKustomization reads the sync Kustomization; nil when it (or its CRD) is missing.
func (b *bootstrapRun) existingKustomization(ctx context.Context, kube *Kube) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(kustomizeGV.WithKind("Kustomization"))
	err := kube.Client.Get(ctx, b.syncKey(), u)
	switch {
	case apierrors.IsNotFound(err) || apimeta.IsNoMatchError(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get Kustomization %s: %w", b.syncKey(), err)
	}
	return u, nil
}

// checkSyncPath refuses to repoint an existing sync Kustomization at another path: that
// would prune everything the old path applied.
func (b *bootstrapRun) checkSyncPath(ctx context.Context, kube *Kube) error {
	ks, err := b.existingKustomization(ctx, kube)
	if err != nil || ks == nil {
		return err
	}
	current, _, _ := unstructured.NestedString(ks.Object, "spec", "path")
	want := "./" + b.path
	if path.Clean(strings.TrimPrefix(current, "./")) != path.Clean(strings.TrimPrefix(want, "./")) {
		return fmt.Errorf("sync path configuration (%q) would overwrite path (%q) of existing Kustomization %s", want, current, b.syncKey())
	}
	return nil
}

// mustInstall reports whether the CLI installs the components: not when the sync
// Kustomization has applied a revision already, since it then applies them from Git.
func (b *bootstrapRun) mustInstall(ctx context.Context, kube *Kube) (bool, error) {
	ks, err := b.existingKustomization(ctx, kube)
	if err != nil || ks == nil {
		return true, err
	}
	applied, _, _ := unstructured.NestedString(ks.Object, "status", "lastAppliedRevision")
	return applied == "", nil
}

// reconcileSecret creates the Git credentials Secret unless it exists: an existing one may
// hold a key that was given access already, and regenerating it would lock the cluster out.
func (b *bootstrapRun) reconcileSecret(ctx context.Context, kube *Kube, deadline time.Time) error {
	log := b.c.Log()
	key := client.ObjectKey{Namespace: b.install.Namespace, Name: b.sync.Secret}
	log.Actionf("determining if source secret %q exists", key)
	_, err := kube.Clientset.CoreV1().Secrets(key.Namespace).Get(ctx, key.Name, metav1.GetOptions{})
	switch {
	case err == nil:
		log.Successf("source secret up to date")
		return nil
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("get Secret %s: %w", key, err)
	}
	log.Actionf("generating source secret")
	data, publicKey, err := b.creds.data(ctx, min(connectTimeout, time.Until(deadline)))
	if err != nil {
		return err
	}
	if publicKey != nil {
		log.Successf("public key: %s", strings.TrimSpace(string(publicKey)))
		if b.onPublicKey != nil {
			if err := b.onPublicKey(ctx, publicKey); err != nil {
				return err
			}
		}
	}
	log.Actionf("applying source secret %q", key)
	encoded := map[string]any{}
	for k, v := range data {
		encoded[k] = base64.StdEncoding.EncodeToString(v)
	}
	secret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": key.Name, "namespace": key.Namespace},
		"data":     encoded,
	}}
	if _, err := b.c.applyObject(ctx, kube, secret); err != nil {
		return err
	}
	log.Successf("reconciled source secret")
	return nil
}

// reconcileSync writes gotk-sync.yaml and the directory's kustomization.yaml, commits and
// pushes them when they changed, and applies the sync objects as the kustomization builds
// them (so user patches to them hold from the start).
func (b *bootstrapRun) reconcileSync(ctx context.Context, kube *Kube, dir string) error {
	log := b.c.Log()
	log.Actionf("generating sync manifests")
	syncYAML, err := b.sync.yaml()
	if err != nil {
		return err
	}
	if err := writeBootstrapFile(dir, b.file(bootstrapSyncFile), syncYAML); err != nil {
		return err
	}
	existing, err := readBootstrapFile(dir, b.file(bootstrapKustomizationFile))
	if err != nil {
		return err
	}
	k, err := bootstrapKustomization(existing, []string{bootstrapComponentsFile, bootstrapSyncFile})
	if err != nil {
		return fmt.Errorf("%s: %w", b.file(bootstrapKustomizationFile), err)
	}
	if err := writeBootstrapFile(dir, b.file(bootstrapKustomizationFile), k); err != nil {
		return err
	}
	built, err := b.buildFluxDir(dir)
	if err != nil {
		return err
	}
	var syncObjs []*unstructured.Unstructured
	for _, u := range built {
		if isBootstrapSyncObject(u) {
			syncObjs = append(syncObjs, u)
		}
	}
	if len(syncObjs) == 0 {
		return fmt.Errorf("the kustomization in %s builds no GitRepository or Kustomization", b.fluxDir())
	}
	log.Successf("generated sync manifests")
	if err := b.commitAndPush(ctx, dir, "sync manifests", "Add Flux sync manifests",
		b.file(bootstrapSyncFile), b.file(bootstrapKustomizationFile)); err != nil {
		return err
	}
	log.Actionf("applying sync manifests")
	for _, u := range syncObjs {
		if _, err := b.c.applyObject(ctx, kube, u); err != nil {
			return err
		}
	}
	log.Successf("reconciled sync configuration")
	return nil
}
