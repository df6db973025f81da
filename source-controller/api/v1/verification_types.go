package v1

import (
	"github.com/fluxcd/pkg/apis/meta"
)

// Signature verification providers for OCI artifacts and OCI Helm charts.
const (
	// VerificationProviderCosign verifies Sigstore cosign signatures, either
	// against public keys or keyless (OIDC identities).
	VerificationProviderCosign string = "cosign"
	// VerificationProviderNotation verifies Notary Project signatures.
	VerificationProviderNotation string = "notation"
)

// OCIVerification configures the signature verification of an OCI artifact
// or of a Helm chart stored in an OCI registry.
type OCIVerification struct {
	// Provider is the signing technology to verify: 'cosign' or 'notation'.
	// Defaults to 'cosign'.
	// +kubebuilder:validation:Enum=cosign;notation
	// +kubebuilder:default:=cosign
	// +required
	Provider string `json:"provider"`

	// SecretRef names a Secret in the same namespace holding the trusted
	// public keys (cosign) or certificates and trust policy (notation). For
	// cosign, keyless verification is used when unset.
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// MatchOIDCIdentity lists the accepted signer identities for cosign
	// keyless verification. The signature is accepted when any entry matches
	// the issuer and subject of the signing certificate.
	// +optional
	MatchOIDCIdentity []OIDCIdentityMatch `json:"matchOIDCIdentity,omitempty"`
}

// OIDCIdentityMatch is one accepted signer identity for keyless verification.
type OIDCIdentityMatch struct {
	// Issuer is a Go regular expression the OIDC issuer of the signing
	// certificate must match.
	// +required
	Issuer string `json:"issuer"`

	// Subject is a Go regular expression the identity subject of the signing
	// certificate must match.
	// +required
	Subject string `json:"subject"`
}

// OCIRepositoryVerification configures the signature verification of the
// artifact pulled by an OCIRepository.
type OCIRepositoryVerification struct {
	OCIVerification `json:",inline"`

	// TrustedRootSecretRef names a Secret in the same namespace with a
	// Sigstore 'trusted_root.json' key, used to verify against a self-hosted
	// Sigstore deployment (own Fulcio CA, own Rekor) instead of the public one.
	// +optional
	TrustedRootSecretRef *meta.LocalObjectReference `json:"trustedRootSecretRef,omitempty"`
}
