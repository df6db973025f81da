package provider

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

// flagNames maps the flux CLI's flag names, which the shared validation names in its
// errors, to this resource's attribute names.
var flagNames = strings.NewReplacer(
	"--components-extra", "components_extra", "--components", "components", "--version", "version",
	"--namespace", "namespace", "--registry", "registry", "--image-pull-secret", "image_pull_secret",
	"--log-level", "log_level", "--cluster-domain", "cluster_domain", "--toleration-keys", "toleration_keys",
	"--secret-name", "secret_name", "--interval", "interval", "--path", "path", "--branch", "git.branch",
)

// attrError says which attribute of flux_bootstrap_git is wrong.
func attrError(name string, err error) error {
	return fmt.Errorf("attribute %s: %s", name, flagNames.Replace(err.Error()))
}

func parseDuration(v types.String, def string) (time.Duration, error) {
	s := v.ValueString()
	if s == "" {
		s = def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s: must be positive", s)
	}
	return d, nil
}
