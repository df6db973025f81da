package cloud

import (
	"fmt"
	"regexp"
	"strings"
)

// gcpProviderName is the documented form of a workload identity pool provider's resource
// name (pool and provider IDs: 4 to 32 lowercase letters, digits and hyphens).
var gcpProviderName = regexp.MustCompile(`^projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]{4,32}/providers/[a-z0-9-]{4,32}$`)

// gcpServiceAccountEmail is a Google service account's email: it becomes part of the
// impersonation URL's path, so nothing but its documented characters is let through.
var gcpServiceAccountEmail = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*@[a-z0-9][a-z0-9.-]*\.gserviceaccount\.com$`)

// checkGCPAnnotations refuses annotation values Google would not accept, saying which
// annotation and the form it needs.
func checkGCPAnnotations(id objectIdentity) error {
	if p := id.gcpProvider; p != "" && !gcpProviderName.MatchString(p) {
		hint := ""
		if strings.HasPrefix(p, "//") || strings.HasPrefix(p, "https:") {
			hint = " (the resource name without the //iam.googleapis.com/ prefix)"
		}
		return fmt.Errorf("invalid '%s' annotation %q: want projects/<project number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>%s",
			AnnotationGCPWorkloadIdentityProvider, p, hint)
	}
	if e := id.gcpServiceAccount; e != "" && !gcpServiceAccountEmail.MatchString(e) {
		return fmt.Errorf("invalid '%s' annotation %q: want a Google service account email (<name>@<project>.iam.gserviceaccount.com)",
			AnnotationGCPServiceAcct, e)
	}
	return nil
}
