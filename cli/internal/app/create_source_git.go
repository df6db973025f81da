package app

import (
	"context"
	"errors"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gotk.dev/pkg/git"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// sourceGitFlags are create source git's own flags.
type sourceGitFlags struct {
	url, branch, tag, semver, commit, refName string
	secretRef                                 string
	ignorePaths                               []string
	recurseSubmodules                         bool
	silent                                    bool
	creds                                     gitCredentialFlags
	sf                                        *sourceFlags
}

func newCreateSourceGitCommand(c *Command, cf *createFlags, sf *sourceFlags) *cobra.Command {
	f := &sourceGitFlags{sf: sf}
	cmd := &cobra.Command{
		Use:   "git [name]",
		Short: "Create or update a GitRepository source",
		Long: `The create source git command generates a GitRepository resource and waits for it to sync.
For Git over SSH, a key pair is generated (or read from --private-key-file), the host keys are
scanned, and both are stored in a Secret named after the source; the deploy key is printed so it
can be added to the repository. For private Git repositories over HTTP/S, --username and --password
are stored in that Secret.`,
		Example: `  # Create a source for a public Git repository
  flux create source git podinfo --url=https://github.com/stefanprodan/podinfo --branch=master

  # Create a source for a Git repository pinned to a tag or a semver range
  flux create source git podinfo --url=https://github.com/stefanprodan/podinfo --tag-semver=">=6.0.0"

  # Create a source for a private Git repository over SSH, with a generated deploy key
  flux create source git podinfo --url=ssh://git@github.com/stefanprodan/podinfo --branch=master

  # Create a source using existing credentials
  flux create source git podinfo --url=https://github.com/stefanprodan/podinfo --secret-ref=git-auth

  # Print the GitRepository instead of applying it
  flux create source git podinfo --url=https://github.com/stefanprodan/podinfo --tag=6.0.0 --export`,
		Args: nameArg("GitRepository source"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.createSourceGit(cmd, cf, f, args[0])
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.url, "url", "", "git address, e.g. ssh://git@host/org/repository")
	fs.StringVar(&f.branch, "branch", sourcev1.GitDefaultBranch, "git branch")
	fs.StringVar(&f.tag, "tag", "", "git tag")
	fs.StringVar(&f.semver, "tag-semver", "", "git tag semver range")
	fs.StringVar(&f.commit, "commit", "", "git commit")
	fs.StringVar(&f.refName, "ref-name", "", "git reference name")
	fs.StringVar(&f.secretRef, "secret-ref", "", "the name of an existing secret containing SSH or basic credentials")
	fs.StringSliceVar(&f.ignorePaths, "ignore-paths", nil, "set paths to ignore in git resource (can specify multiple paths with commas: path1,path2)")
	fs.BoolVar(&f.recurseSubmodules, "recurse-submodules", false, "when enabled, configures the GitRepository source to initialize and include Git submodules in the artifact it produces")
	fs.BoolVarP(&f.silent, "silent", "s", false, "assumes the deploy key is already setup, skips confirmation")
	f.creds.bind(fs, "ca-file", false)
	return cmd
}

// gitRepository builds the GitRepository the flags describe. The ref takes the first of
// --commit (with --branch when given), --tag-semver, --tag, --ref-name, --branch.
func (f *sourceGitFlags) gitRepository(cmd *cobra.Command, name, ns string, cf *createFlags) (*sourcev1.GitRepository, error) {
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return nil, err
	}
	if _, err := parseGitURL(f.url); err != nil {
		return nil, err
	}
	ref := &sourcev1.GitRepositoryRef{}
	switch {
	case f.commit != "":
		ref.Commit = f.commit
		if cmd.Flags().Changed("branch") {
			ref.Branch = f.branch
		}
	case f.semver != "":
		ref.SemVer = f.semver
	case f.tag != "":
		ref.Tag = f.tag
	case f.refName != "":
		ref.Name = f.refName
	case f.branch != "":
		ref.Branch = f.branch
	default:
		return nil, errors.New("a Git ref is required, use one of the following: --branch, --tag, --commit, --ref-name or --tag-semver")
	}
	repo := &sourcev1.GitRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.GitRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: sourcev1.GitRepositorySpec{
			URL:               f.url,
			Interval:          metav1.Duration{Duration: cf.interval},
			Reference:         ref,
			RecurseSubmodules: f.recurseSubmodules,
		},
	}
	if len(f.ignorePaths) > 0 {
		ignore := strings.Join(f.ignorePaths, "\n")
		repo.Spec.Ignore = &ignore
	}
	if f.secretRef != "" {
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: f.secretRef}
	}
	if f.sf != nil && f.sf.fetchTimeout > 0 {
		repo.Spec.Timeout = &metav1.Duration{Duration: f.sf.fetchTimeout}
	}
	return repo, nil
}

func (c *Command) createSourceGit(cmd *cobra.Command, cf *createFlags, f *sourceGitFlags, name string) error {
	ns := c.Global.Namespace
	repo, err := f.gitRepository(cmd, name, ns, cf)
	if err != nil {
		return err
	}
	t, err := c.beginCreate(cmd, cf, repo)
	if err != nil || t == nil {
		return err
	}
	defer t.cancel()
	ctx, kube, u := t.ctx, t.kube, t.u
	log := c.Log()
	log.Generatef("generating GitRepository source")
	var secret *appliedSecret
	if f.secretRef == "" {
		if secret, err = c.gitSourceSecret(ctx, kube, f, name, repo.Labels); err != nil {
			return err
		}
		if secret != nil {
			if err := unstructured.SetNestedField(u.Object, name, "spec", "secretRef", "name"); err != nil {
				return err
			}
		}
	}
	k, _ := LookupKind("source", "git")
	got, applied, err := c.applyAndWait(ctx, kube, k, u, "GitRepository source")
	if err != nil {
		if !applied { // nothing uses the Secret this command created
			secret.rollback(ctx, kube, log, "GitRepository")
		}
		return err
	}
	log.Successf("GitRepository source reconciliation completed")
	if _, ok, _ := unstructured.NestedMap(got.Object, "status", "artifact"); !ok {
		return errors.New("GitRepository source reconciliation completed but no artifact was found")
	}
	log.Successf("%s", revisionMessage(k, got, ":"))
	return nil
}

// gitSourceSecret creates the Secret named after the source when the URL and flags call for
// credentials (SSH, or HTTP/S basic auth or CA). For a deploy key it asks, unless --silent,
// whether the key was added to the repository. It returns nil when no Secret is needed.
func (c *Command) gitSourceSecret(ctx context.Context, kube *Kube, f *sourceGitFlags, name string, labels map[string]string) (*appliedSecret, error) {
	u, err := parseGitURL(f.url)
	if err != nil {
		return nil, err
	}
	data, err := c.gitSecretData(ctx, u, f.creds, false)
	if err != nil || len(data) == 0 {
		return nil, err
	}
	log := c.Log()
	if hosts, ok := data[git.KeyKnownHosts]; ok {
		log.Successf("collected public key from SSH server:\n%s", strings.TrimSpace(hosts))
	}
	if pub, ok := data[git.KeyIdentity+".pub"]; ok {
		log.Generatef("deploy key: %s", strings.TrimSpace(pub))
		if !f.silent {
			yes, err := c.confirm("Have you added the deploy key to your repository")
			if err != nil {
				return nil, err
			}
			if !yes {
				return nil, errors.New("aborting")
			}
		}
	}
	log.Actionf("applying secret with repository credentials")
	s, err := applySecret(ctx, kube, newSecret(name, c.Global.Namespace, labels, "", data))
	if err != nil {
		return nil, err
	}
	log.Successf("authentication configured")
	return s, nil
}
