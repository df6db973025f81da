package oci

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// explain adds what to check to registry errors whose status alone says little (a 401 to a
// HEAD request has no body). The original error stays reachable with errors.As.
func explain(err error) error {
	var te *transport.Error
	if !errors.As(err, &te) {
		return err
	}
	switch te.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w (authentication failed: credentials missing or rejected)", err)
	case http.StatusForbidden:
		return fmt.Errorf("%w (access denied: the credentials lack permission for this repository)", err)
	}
	return err
}
