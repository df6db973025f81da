package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/cli/pkg/manifests"
)

// migrateFlags are flux migrate's flags.
type migrateFlags struct {
	path, version string
	extensions    []string
	yes, dryRun   bool
}

func newMigrateCommand(c *Command) *cobra.Command {
	f := &migrateFlags{}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Migrate the Flux custom resources to their latest API version",
		Long: `The migrate command must be run before a Flux minor version upgrade.

The command has two modes of operation:

- Cluster mode (default): migrates all the Flux custom resources stored in Kubernetes etcd to their latest API version.
- File system mode (-f): migrates the Flux custom resources defined in the manifests located in the specified path.`,
		Example: `  # Migrate all the Flux custom resources in the cluster.
  flux migrate

  # Migrate all the Flux custom resources in a Git repository checked out in the current working directory.
  flux migrate -f .

  # Migrate all Flux custom resources defined in YAML and Helm YAML template files.
  flux migrate -f . --extensions=.yml,.yaml,.tpl

  # Migrate the Flux custom resources to the latest API versions of Flux 2.6.
  flux migrate -f . --version=2.6

  # Simulate the migration without making any changes.
  flux migrate -f . --dry-run

  # Run the migration by skipping confirmation prompts.
  flux migrate -f . --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.path == "" {
				return c.migrateCluster(cmd.Context())
			}
			return c.migrateFiles(f)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.path, "path", "f", "", "the path to the directory containing the manifests to migrate")
	fs.StringSliceVarP(&f.extensions, "extensions", "e", []string{".yaml", ".yml"}, "the file extensions to consider when migrating manifests, only applicable --path")
	fs.StringVarP(&f.version, "version", "v", "", "the target Flux minor version to migrate manifests to, only applicable with --path (defaults to the version of the CLI)")
	fs.BoolVarP(&f.yes, "yes", "y", false, "skip confirmation prompts when migrating manifests, only applicable with --path")
	fs.BoolVar(&f.dryRun, "dry-run", false, "simulate the migration of manifests without making any changes, only applicable with --path")
	return cmd
}

// migrateCluster rewrites every object of the Flux CRDs (those labelled part-of=flux) at its
// CRD's storage version, moves their managed fields to that version, and leaves only it in
// the CRD's status.storedVersions, so an older version can be dropped from the CRD.
func (c *Command) migrateCluster(ctx context.Context) error {
	log := c.Log()
	log.Actionf("starting migration of custom resources")
	kube, _, err := c.connect(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	crds := &unstructured.UnstructuredList{}
	crds.SetAPIVersion("apiextensions.k8s.io/v1")
	crds.SetKind("CustomResourceDefinitionList")
	if err := kube.Client.List(ctx, crds, client.MatchingLabels{manifests.PartOfLabel: manifests.PartOfValue}); err != nil {
		return fmt.Errorf("failed to list CRDs: %w", err)
	}
	for i := range crds.Items {
		if err := migrateCRD(ctx, kube, c, &crds.Items[i]); err != nil {
			return err
		}
	}
	log.Successf("custom resources migrated successfully")
	return nil
}

func migrateCRD(ctx context.Context, kube *Kube, c *Command, crd *unstructured.Unstructured) error {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	listKind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "listKind")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	storage := ""
	for _, v := range versions {
		if m, ok := v.(map[string]any); ok && m["storage"] == true {
			storage, _ = m["name"].(string)
		}
	}
	if storage == "" {
		return fmt.Errorf("no storage version found for CRD %s", crd.GetName())
	}
	apiVersion := group + "/" + storage
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion(apiVersion)
		list.SetKind(listKind)
		if err := kube.Client.List(ctx, list); err != nil {
			return fmt.Errorf("failed to list resources for CRD %s: %w", crd.GetName(), err)
		}
		for i := range list.Items {
			if err := migrateObject(ctx, kube, &list.Items[i], apiVersion); err != nil {
				return err
			}
			c.Log().Successf("%s migrated to version %s", manifests.ID(&list.Items[i]), storage)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("failed to migrate resources for CRD %s: %w", crd.GetName(), err)
	}
	stored, _, _ := unstructured.NestedStringSlice(crd.Object, "status", "storedVersions")
	if len(stored) == 1 && stored[0] == storage {
		return nil
	}
	patch, _ := json.Marshal(map[string]any{"status": map[string]any{"storedVersions": []string{storage}}})
	if err := kube.Client.Status().Patch(ctx, crd, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("failed to update CRD %s status: %w", crd.GetName(), err)
	}
	c.Log().Successf("%s migrated to storage version %s", crd.GetName(), storage)
	return nil
}

// migrateObject writes u back (the API server stores it at the storage version even when
// nothing else changes) with its managed fields moved to apiVersion. The patch carries the
// resourceVersion read, so a concurrent change is a conflict and the CRD is listed again.
func migrateObject(ctx context.Context, kube *Kube, u *unstructured.Unstructured, apiVersion string) error {
	orig := u.DeepCopy()
	fields := u.GetManagedFields()
	for i := range fields {
		fields[i].APIVersion = apiVersion
	}
	u.SetManagedFields(fields)
	patch := client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	if err := kube.Client.Patch(ctx, u, patch); err != nil && !apierrors.IsNotFound(err) {
		if apierrors.IsConflict(err) {
			return err
		}
		return fmt.Errorf("%s failed to migrate: %w", manifests.ID(u), err)
	}
	return nil
}
