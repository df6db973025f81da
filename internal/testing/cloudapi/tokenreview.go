package cloudapi

import (
	"context"
	"errors"

	authenticationv1 "k8s.io/api/authentication/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TokenReviewer is the VerifyFunc the fake clouds use to trust a cluster's service account
// tokens as the real ones do: a TokenReview against that cluster's API server, for the
// audience the cloud expects; the subject is the service account's user name
// ("system:serviceaccount:<namespace>:<name>").
func TokenReviewer(ctx context.Context, c client.Client) VerifyFunc {
	return func(token, audience string) (string, error) {
		tr := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: []string{audience}}}
		if err := c.Create(ctx, tr); err != nil {
			return "", err
		}
		if !tr.Status.Authenticated {
			return "", errors.New(tr.Status.Error)
		}
		return tr.Status.User.Username, nil
	}
}
