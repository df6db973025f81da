package v1

// OIDCProvider is an OIDC issuer trusted to authenticate requests sent to a
// 'generic-oidc' Receiver.
type OIDCProvider struct {
	// IssuerURL is the issuer used for OIDC discovery; it must equal the
	// 'iss' claim of the tokens it issues.
	// +kubebuilder:validation:Pattern="^https?://"
	// +required
	IssuerURL string `json:"issuerURL"`

	// Audience is the 'aud' claim the tokens must carry. Defaults to
	// 'notification-controller'.
	// +optional
	Audience string `json:"audience,omitempty"`

	// Variables are named CEL expressions evaluated in order and exposed
	// to later expressions as 'vars.<name>'. Each one can read the token
	// claims as 'claims' and any variable defined before it.
	// +optional
	Variables []OIDCVariable `json:"variables,omitempty"`

	// Validations are CEL boolean expressions over the token claims and the
	// variables; a request is accepted only when all of them are true. At
	// least one is required, because a valid signature from a public issuer
	// only proves the token came from somewhere on that platform: the
	// validations must pin down who the caller is (e.g. the
	// 'repository_owner' claim of GitHub Actions tokens).
	// +kubebuilder:validation:MinItems=1
	// +required
	Validations []OIDCValidation `json:"validations"`
}

// OIDCVariable is a named CEL expression over the claims of an OIDC token.
type OIDCVariable struct {
	// Name of the variable; it must be a valid CEL identifier.
	// +required
	Name string `json:"name"`

	// Expression is the CEL expression computing the variable's value.
	// +required
	Expression string `json:"expression"`
}

// OIDCValidation is a CEL boolean expression a request's OIDC token must
// satisfy.
type OIDCValidation struct {
	// Expression is the CEL expression; it must evaluate to a boolean.
	// +required
	Expression string `json:"expression"`

	// Message is sent back to the caller when Expression is false.
	// +required
	Message string `json:"message"`
}

// DefaultOIDCAudience is the audience expected from OIDC tokens when an
// OIDCProvider does not set one.
const DefaultOIDCAudience = "notification-controller"

// GetAudience returns the configured audience, or DefaultOIDCAudience.
func (in *OIDCProvider) GetAudience() string {
	if in.Audience == "" {
		return DefaultOIDCAudience
	}
	return in.Audience
}
