package manifests

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Options are `flux install`'s settings. DefaultOptions fills every field.
type Options struct {
	// Namespace is where the controllers run; cluster-wide RBAC names end in it.
	Namespace string
	// Components are the controllers to install (see SelectComponents).
	Components []string
	// Registry is the image repository prefix: images are <Registry>/<controller>:<Version>.
	Registry string
	// Version is the controllers' image tag and the app.kubernetes.io/version label.
	Version string
	// ImagePullSecret, when set, is the Secret (in Namespace) the pods pull images with.
	ImagePullSecret string
	// NetworkPolicy installs the allow-egress, allow-scraping and allow-webhooks policies.
	NetworkPolicy bool
	// WatchAllNamespaces makes the controllers reconcile objects in every namespace, not only
	// their own.
	WatchAllNamespaces bool
	// LogLevel is the controllers' --log-level: trace, debug, info or error.
	LogLevel string
	// ClusterDomain is the cluster's DNS domain, used in the in-cluster service addresses.
	ClusterDomain string
	// TolerationKeys are taint keys the pods tolerate (operator Exists).
	TolerationKeys []string
	// Shards are the names of shard instances of the sharded controllers to run beside the
	// primary ones (see shards.go); none means no sharding.
	Shards []string
}

// DefaultOptions are upstream's defaults with images of the given version.
func DefaultOptions(version string) Options {
	return Options{
		Namespace:          DefaultNamespace,
		Components:         DefaultComponents(),
		Registry:           DefaultRegistry,
		Version:            version,
		NetworkPolicy:      true,
		WatchAllNamespaces: true,
		LogLevel:           DefaultLogLevel,
		ClusterDomain:      DefaultClusterDomain,
	}
}

// LogLevels are the values the controllers' --log-level accepts.
func LogLevels() []string { return []string{"trace", "debug", "info", "error"} }

var (
	// tagPattern is the OCI distribution spec's tag grammar.
	tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	// hostPattern is a registry host with an optional port.
	hostPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?$`)
	// pathPattern is one component of a repository path (OCI distribution spec).
	pathPattern = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$`)
)

// Validate checks every option and reports all problems at once, each naming its flag.
func (o Options) Validate() error {
	var errs []error
	add := func(flag, value string, problems []string) {
		if len(problems) > 0 {
			errs = append(errs, fmt.Errorf("invalid --%s %q: %s", flag, value, strings.Join(problems, "; ")))
		}
	}
	add("namespace", o.Namespace, validation.IsDNS1123Label(o.Namespace))
	if len(o.Components) == 0 {
		errs = append(errs, fmt.Errorf("no components selected: choose from %s", strings.Join(AllComponents(), ", ")))
	}
	for _, c := range o.Components {
		if !slices.Contains(AllComponents(), c) {
			errs = append(errs, fmt.Errorf("unknown component %q: valid components are %s", c, strings.Join(AllComponents(), ", ")))
		}
	}
	if err := validateRegistry(o.Registry); err != nil {
		errs = append(errs, err)
	}
	if !tagPattern.MatchString(o.Version) {
		errs = append(errs, fmt.Errorf("invalid --version %q: must be an image tag (letters, digits, '_', '.', '-', at most 128)", o.Version))
	}
	if o.ImagePullSecret != "" {
		add("image-pull-secret", o.ImagePullSecret, validation.IsDNS1123Subdomain(o.ImagePullSecret))
	}
	if !slices.Contains(LogLevels(), o.LogLevel) {
		errs = append(errs, fmt.Errorf("invalid --log-level %q: must be one of %s", o.LogLevel, strings.Join(LogLevels(), ", ")))
	}
	add("cluster-domain", o.ClusterDomain, validation.IsDNS1123Subdomain(o.ClusterDomain))
	for _, k := range o.TolerationKeys {
		add("toleration-keys", k, validation.IsQualifiedName(k))
	}
	errs = append(errs, validateShards(o.Shards)...)
	return errors.Join(errs...)
}

// validateRegistry accepts host[:port][/path...], the prefix of an image repository.
func validateRegistry(r string) error {
	bad := func(why string) error { return fmt.Errorf("invalid --registry %q: %s", r, why) }
	if r == "" {
		return bad("must not be empty")
	}
	if strings.Contains(r, "://") {
		return bad("give host[:port][/path] without a scheme")
	}
	parts := strings.Split(strings.TrimSuffix(r, "/"), "/")
	if !hostPattern.MatchString(parts[0]) {
		return bad(fmt.Sprintf("%q is not a registry host[:port]", parts[0]))
	}
	for _, p := range parts[1:] {
		if !pathPattern.MatchString(p) {
			return bad(fmt.Sprintf("path component %q must be lowercase letters and digits separated by '.', '_' or '-'", p))
		}
	}
	return nil
}
