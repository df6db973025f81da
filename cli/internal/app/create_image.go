package app

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	autov1 "gotk.dev/image-automation-controller/api/v1"
	imagev1 "gotk.dev/image-reflector-controller/api/v1"
	sourcev1 "gotk.dev/source-controller/api/v1"
)

// newCreateImageCommand is flux create image repository|policy|update.
func newCreateImageCommand(c *Command, cf *createFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Create or update resources dealing with image automation",
		Args: cobra.ArbitraryArgs, RunE: unknownWordRunE("image")}
	cmd.AddCommand(newCreateImageRepositoryCommand(c, cf), newCreateImagePolicyCommand(c, cf), newCreateImageUpdateCommand(c, cf))
	return cmd
}

// createImageObject is the common end of the three commands: export, or apply and wait.
func (c *Command) createImageObject(cmd *cobra.Command, cf *createFlags, word string, obj runtime.Object) error {
	k, _ := LookupKind("image", word)
	t, err := c.beginCreate(cmd, cf, obj)
	if err != nil || t == nil {
		return err
	}
	defer t.cancel()
	c.Log().Generatef("generating %s", k.Kind)
	got, _, err := c.applyAndWait(t.ctx, t.kube, k, t.u, k.Kind)
	if err != nil {
		return err
	}
	c.Log().Successf("%s reconciliation completed", k.Kind)
	c.Log().Successf("%s", revisionMessage(k, got, ""))
	return nil
}

type imageRepoFlags struct {
	image, secretRef, certSecretRef string
	timeout                         metav1.Duration
}

func newCreateImageRepositoryCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &imageRepoFlags{}
	cmd := &cobra.Command{
		Use:   "repository [name]",
		Short: "Create or update an ImageRepository object",
		Long:  "The create image repository command generates an ImageRepository resource.\nAn ImageRepository object specifies an image repository to scan.",
		Example: `  # Create an ImageRepository object to scan the alpine image repository
  flux create image repository alpine-repo --image alpine --interval 20m

  # Create an image repository that uses an image pull secret (assumed to exist)
  flux create image repository myapp-repo --secret-ref image-pull --image ghcr.io/example.com/myapp --interval 5m`,
		Args: nameArg("ImageRepository"),
		RunE: func(cmd *cobra.Command, args []string) error {
			repo, err := f.imageRepository(args[0], c.Global.Namespace, cf)
			if err != nil {
				return err
			}
			return c.createImageObject(cmd, cf, "repository", repo)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.image, "image", "", "the image repository to scan; e.g., library/alpine")
	fs.StringVar(&f.secretRef, "secret-ref", "", "the name of a docker-registry secret to use for credentials")
	fs.StringVar(&f.certSecretRef, "cert-ref", "", "the name of a secret to use for TLS certificates")
	// --timeout is the command's own timeout; the scan's is --scan-timeout, as upstream.
	fs.DurationVar(&f.timeout.Duration, "scan-timeout", 0, "a timeout for scanning; this defaults to the interval if not set")
	return cmd
}

func (f *imageRepoFlags) imageRepository(objName, ns string, cf *createFlags) (*imagev1.ImageRepository, error) {
	if f.image == "" {
		return nil, errors.New("an image repository (--image) is required")
	}
	if strings.Contains(f.image, "://") {
		return nil, fmt.Errorf("invalid --image %q: give the repository address without a scheme, e.g. ghcr.io/org/app", f.image)
	}
	if _, err := name.NewRepository(f.image); err != nil {
		return nil, fmt.Errorf("invalid --image %q: %w", f.image, err)
	}
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return nil, err
	}
	repo := &imagev1.ImageRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: imagev1.GroupVersion.String(), Kind: imagev1.ImageRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Name: objName, Namespace: ns, Labels: labels},
		Spec:       imagev1.ImageRepositorySpec{Image: f.image, Interval: metav1.Duration{Duration: cf.interval}},
	}
	if f.timeout.Duration != 0 {
		repo.Spec.Timeout = &metav1.Duration{Duration: f.timeout.Duration}
	}
	if f.secretRef != "" {
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: f.secretRef}
	}
	if f.certSecretRef != "" {
		repo.Spec.CertSecretRef = &meta.LocalObjectReference{Name: f.certSecretRef}
	}
	return repo, nil
}

type imagePolicyFlags struct {
	imageRef, semver, alpha, numeric string
	filterRegex, filterExtract       string
	reflectDigest                    string
}

func newCreateImagePolicyCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &imagePolicyFlags{}
	cmd := &cobra.Command{
		Use:   "policy [name]",
		Short: "Create or update an ImagePolicy object",
		Long: `The create image policy command generates an ImagePolicy resource.
An ImagePolicy object calculates a "latest image" given an image
repository and a policy, e.g., semver.

The image that sorts highest according to the policy is recorded in
the status of the object.`,
		Example: `  # Create an ImagePolicy to select the latest stable release
  flux create image policy podinfo --image-ref=podinfo --select-semver=">=1.0.0"

  # Create an ImagePolicy to select the latest main branch build tagged as "${GIT_BRANCH}-${GIT_SHA:0:7}-$(date +%s)"
  flux create image policy podinfo --image-ref=podinfo --select-numeric=asc \
    --filter-regex='^main-[a-f0-9]+-(?P<ts>[0-9]+)' --filter-extract='$ts'`,
		Args: nameArg("ImagePolicy"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := f.imagePolicy(args[0], c.Global.Namespace, cf)
			if err != nil {
				return err
			}
			return c.createImageObject(cmd, cf, "policy", p)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.imageRef, "image-ref", "", "the name of an image repository object")
	fs.StringVar(&f.semver, "select-semver", "", "a semver range to apply to tags; e.g., '1.x'")
	fs.StringVar(&f.alpha, "select-alpha", "", `use alphabetical sorting to select image; either "asc" meaning select the last, or "desc" meaning select the first`)
	fs.StringVar(&f.numeric, "select-numeric", "", `use numeric sorting to select image; either "asc" meaning select the last, or "desc" meaning select the first`)
	fs.StringVar(&f.filterRegex, "filter-regex", "", "regular expression pattern used to filter the image tags")
	fs.StringVar(&f.filterExtract, "filter-extract", "", "replacement pattern (using capture groups from --filter-regex) to use for sorting")
	fs.StringVar(&f.reflectDigest, "reflect-digest", "", "the digest reflection policy: Never, IfNotPresent or Always (which refreshes the digest every --interval)")
	return cmd
}

func (f *imagePolicyFlags) imagePolicy(objName, ns string, cf *createFlags) (*imagev1.ImagePolicy, error) {
	if f.imageRef == "" {
		return nil, errors.New("the name of an ImageRepository in the namespace is required (--image-ref)")
	}
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return nil, err
	}
	p := &imagev1.ImagePolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: imagev1.GroupVersion.String(), Kind: imagev1.ImagePolicyKind},
		ObjectMeta: metav1.ObjectMeta{Name: objName, Namespace: ns, Labels: labels},
		Spec:       imagev1.ImagePolicySpec{ImageRepositoryRef: meta.NamespacedObjectReference{Name: f.imageRef}},
	}
	set := 0
	for _, v := range []string{f.semver, f.alpha, f.numeric} {
		if v != "" {
			set++
		}
	}
	order := func(flag, v string) error {
		if v != imagev1.OrderAsc && v != imagev1.OrderDesc {
			return fmt.Errorf(`%s must be one of ["asc", "desc"]`, flag)
		}
		return nil
	}
	switch {
	case set > 1:
		return nil, errors.New("only one of --select-semver, --select-alpha or --select-numeric can be specified")
	case f.semver != "":
		p.Spec.Policy.SemVer = &imagev1.SemVerPolicy{Range: f.semver}
	case f.alpha != "":
		if err := order("--select-alpha", f.alpha); err != nil {
			return nil, err
		}
		p.Spec.Policy.Alphabetical = &imagev1.AlphabeticalPolicy{Order: f.alpha}
	case f.numeric != "":
		if err := order("--select-numeric", f.numeric); err != nil {
			return nil, err
		}
		p.Spec.Policy.Numerical = &imagev1.NumericalPolicy{Order: f.numeric}
	default:
		return nil, errors.New("a policy must be provided with either --select-semver, --select-alpha or --select-numeric")
	}
	if err := f.filter(p); err != nil {
		return nil, err
	}
	switch imagev1.ReflectionPolicy(f.reflectDigest) {
	case "":
	case imagev1.ReflectAlways:
		p.Spec.DigestReflectionPolicy = imagev1.ReflectAlways
		p.Spec.Interval = &metav1.Duration{Duration: cf.interval}
	case imagev1.ReflectIfNotPresent, imagev1.ReflectNever:
		p.Spec.DigestReflectionPolicy = imagev1.ReflectionPolicy(f.reflectDigest)
	default:
		return nil, fmt.Errorf("invalid --reflect-digest %q: want Never, IfNotPresent or Always", f.reflectDigest)
	}
	return p, nil
}

// filter sets spec.filterTags, checking that --filter-extract only names capture groups of
// --filter-regex.
func (f *imagePolicyFlags) filter(p *imagev1.ImagePolicy) error {
	if f.filterRegex == "" {
		if f.filterExtract != "" {
			return errors.New("cannot specify --filter-extract without specifying --filter-regex")
		}
		return nil
	}
	re, err := syntax.Parse(f.filterRegex, syntax.Perl)
	if err != nil {
		return fmt.Errorf("--filter-regex is an invalid regex pattern: %v", err)
	}
	p.Spec.FilterTags = &imagev1.TagFilter{Pattern: f.filterRegex, Extract: f.filterExtract}
	names := re.CapNames()
	for _, m := range extractRefs.FindAllStringSubmatch(f.filterExtract, -1) {
		ref := m[1] + m[2]
		if ref == "" || isDigits(ref) {
			continue
		}
		if !slices.Contains(names, ref) {
			return fmt.Errorf("capture group $%s used in --filter-extract not found in --filter-regex", ref)
		}
	}
	return nil
}

// extractRefs finds the $name and ${name} references of a regexp.Expand template ($$ is a
// literal dollar and names nothing).
var extractRefs = regexp.MustCompile(`\$(?:\{(\w+)\}|(\w+)|\$)`)

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

type imageUpdateFlags struct {
	gitRepoName, gitRepoNamespace, gitRepoPath string
	checkoutBranch, pushBranch                 string
	commitTemplate, authorName, authorEmail    string
}

func newCreateImageUpdateCommand(c *Command, cf *createFlags) *cobra.Command {
	f := &imageUpdateFlags{}
	cmd := &cobra.Command{
		Use:   "update [name]",
		Short: "Create or update an ImageUpdateAutomation object",
		Long: `The create image update command generates an ImageUpdateAutomation resource.
An ImageUpdateAutomation object specifies an automated update to images
mentioned in YAMLs in a git repository.`,
		Example: `  # Configure image updates for the main repository created by flux bootstrap
  flux create image update flux-system \
    --git-repo-ref=flux-system \
    --git-repo-path="./clusters/my-cluster" \
    --checkout-branch=main \
    --author-name=flux \
    --author-email=flux@example.com \
    --commit-template="{{range .Changed.Changes}}{{print .OldValue}} -> {{println .NewValue}}{{end}}"

  # Configure image updates to push to a different branch, for pull requests
  flux create image update flux-system \
    --git-repo-ref=flux-system \
    --checkout-branch=main \
    --push-branch=image-updates \
    --author-name=flux \
    --author-email=flux@example.com`,
		Args: nameArg("ImageUpdateAutomation"),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := f.imageUpdate(args[0], c.Global.Namespace, cf)
			if err != nil {
				return err
			}
			return c.createImageObject(cmd, cf, "update", u)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.gitRepoName, "git-repo-ref", "", "the name of a GitRepository resource with details of the upstream Git repository")
	fs.StringVar(&f.gitRepoNamespace, "git-repo-namespace", "", "the namespace of the GitRepository resource, defaults to the ImageUpdateAutomation namespace")
	fs.StringVar(&f.gitRepoPath, "git-repo-path", "", "path to the directory containing the manifests to be updated, defaults to the repository root")
	fs.StringVar(&f.checkoutBranch, "checkout-branch", "", "the branch to checkout, defaults to the GitRepository's reference")
	fs.StringVar(&f.pushBranch, "push-branch", "", "the branch to push commits to, defaults to the checkout branch if not specified")
	fs.StringVar(&f.commitTemplate, "commit-template", "", "a template for commit messages")
	fs.StringVar(&f.authorName, "author-name", "", "the name to use for commit author")
	fs.StringVar(&f.authorEmail, "author-email", "", "the email to use for commit author")
	return cmd
}

func (f *imageUpdateFlags) imageUpdate(objName, ns string, cf *createFlags) (*autov1.ImageUpdateAutomation, error) {
	switch {
	case f.gitRepoName == "":
		return nil, errors.New("a reference to a GitRepository is required (--git-repo-ref)")
	case f.authorName == "":
		return nil, errors.New("the author name is required (--author-name)")
	case f.authorEmail == "":
		return nil, errors.New("the author email is required (--author-email)")
	}
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return nil, err
	}
	u := &autov1.ImageUpdateAutomation{
		TypeMeta:   metav1.TypeMeta{APIVersion: autov1.GroupVersion.String(), Kind: autov1.ImageUpdateAutomationKind},
		ObjectMeta: metav1.ObjectMeta{Name: objName, Namespace: ns, Labels: labels},
		Spec: autov1.ImageUpdateAutomationSpec{
			SourceRef: autov1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: f.gitRepoName, Namespace: f.gitRepoNamespace},
			Interval:  metav1.Duration{Duration: cf.interval},
			GitSpec: &autov1.GitSpec{Commit: autov1.CommitSpec{
				Author:          autov1.CommitUser{Name: f.authorName, Email: f.authorEmail},
				MessageTemplate: f.commitTemplate,
			}},
		},
	}
	if f.checkoutBranch != "" {
		u.Spec.GitSpec.Checkout = &autov1.GitCheckoutSpec{Reference: autov1.GitRepositoryRef{Branch: f.checkoutBranch}}
	}
	if f.pushBranch != "" {
		u.Spec.GitSpec.Push = &autov1.PushSpec{Branch: f.pushBranch}
	}
	if f.gitRepoPath != "" {
		u.Spec.Update = &autov1.UpdateStrategy{Strategy: autov1.UpdateStrategySetters, Path: f.gitRepoPath}
	}
	return u, nil
}
