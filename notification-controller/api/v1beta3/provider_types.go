package v1beta3

import (
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProviderKind is the kind name of the Provider API.
const ProviderKind = "Provider"

// DefaultProviderTimeout is the time allowed for sending one notification
// when spec.timeout is unset.
const DefaultProviderTimeout = 15 * time.Second

// ProviderSpec is the desired state of a Provider: where and how
// notifications are delivered.
// +kubebuilder:validation:XValidation:rule="self.type == 'github' || self.type == 'gitlab' || self.type == 'gitea' || self.type == 'bitbucketserver' || self.type == 'bitbucket' || self.type == 'azuredevops' || !has(self.commitStatusExpr)",message="spec.commitStatusExpr is only supported for the 'github', 'gitlab', 'gitea', 'bitbucketserver', 'bitbucket', 'azuredevops' provider types"
type ProviderSpec struct {
	// Type selects the notification service implementation.
	// +kubebuilder:validation:Enum=slack;discord;msteams;rocket;generic;generic-hmac;github;gitlab;gitea;giteapullrequestcomment;bitbucketserver;bitbucket;azuredevops;googlechat;googlepubsub;webex;sentry;azureeventhub;telegram;lark;matrix;opsgenie;alertmanager;grafana;githubdispatch;githubpullrequestcomment;gitlabmergerequestcomment;pagerduty;datadog;nats;zulip;otel;zoom;incident.io
	// +required
	Type string `json:"type"`

	// Interval was the reconcile interval of the Provider.
	// Deprecated: not used in v1beta3.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Channel is the destination channel, room or topic, for the types
	// that have one.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Channel string `json:"channel,omitempty"`

	// Username is the name the notifications are posted as, for the types
	// that support it.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Username string `json:"username,omitempty"`

	// Address is where notifications go; its meaning depends on Type: an
	// HTTP/S URL for webhook style providers, a repository URL for Git
	// commit status providers, a project or namespace for others.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Address string `json:"address,omitempty"`

	// Timeout bounds the sending of one notification. Defaults to 15s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m))+$"
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// Proxy is the HTTP/S URL of a proxy to send notifications through.
	// Deprecated: use ProxySecretRef instead.
	// +kubebuilder:validation:Pattern="^(http|https)://.*$"
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Proxy string `json:"proxy,omitempty"`

	// ProxySecretRef names a Secret holding the proxy configuration: an
	// 'address' key with the proxy URL and optional 'username' and
	// 'password' keys.
	// +optional
	ProxySecretRef *meta.LocalObjectReference `json:"proxySecretRef,omitempty"`

	// SecretRef names a Secret holding the credentials of the notification
	// service (token, address, headers... depending on Type).
	// +optional
	SecretRef *meta.LocalObjectReference `json:"secretRef,omitempty"`

	// ServiceAccountName is the ServiceAccount whose workload identity is
	// exchanged for cloud credentials (azureeventhub, azuredevops,
	// googlepubsub), so no static secret is needed. Setting it together
	// with static credentials in SecretRef is an error. Needs the
	// ObjectLevelWorkloadIdentity feature gate. Empty means the
	// controller's own identity.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// CertSecretRef names a Secret with TLS material for talking to the
	// service: 'ca.crt' alone to trust a custom CA, 'tls.crt' and 'tls.key'
	// for client authentication, or all three for mutual TLS. The legacy
	// keys 'caFile', 'certFile' and 'keyFile' are still read.
	// +optional
	CertSecretRef *meta.LocalObjectReference `json:"certSecretRef,omitempty"`

	// CommitStatusExpr is a CEL expression returning a string used as the
	// commit status description for the Git commit status types (github,
	// gitlab, gitea, bitbucketserver, bitbucket, azuredevops). It can read
	// the variables 'event', 'provider' and 'alert'.
	// +optional
	CommitStatusExpr string `json:"commitStatusExpr,omitempty"`

	// Suspend makes the controller stop sending notifications through
	// this Provider. Defaults to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// Provider describes a notification service (chat, Git commit status,
// webhook, message bus...) that Alerts send events to. It has no status:
// the API server validates it and the controller reads it when events
// arrive.
// +kubebuilder:object:root=true
// +kubebuilder:storageversion
// +kubebuilder:resource:categories={all,fluxcd,fluxcd-notifications}
// +kubebuilder:metadata:annotations="kustomize.toolkit.fluxcd.io/substitute=disabled"
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type Provider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the Provider.
	Spec ProviderSpec `json:"spec,omitempty"`
}

// ProviderList is a list of Provider objects.
// +kubebuilder:object:root=true
type ProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the Providers of the list.
	Items []Provider `json:"items"`
}

// IsSuspended reports whether spec.suspend is true.
func (in *Provider) IsSuspended() bool {
	return in.Spec.Suspend
}

// GetTimeout returns spec.timeout, or DefaultProviderTimeout when it is
// unset.
func (in *Provider) GetTimeout() time.Duration {
	if in.Spec.Timeout != nil {
		return in.Spec.Timeout.Duration
	}
	return DefaultProviderTimeout
}

// GetRequeueAfter returns the deprecated spec.interval, or zero when it is
// unset. Providers are not reconciled periodically in v1beta3.
func (in *Provider) GetRequeueAfter() time.Duration {
	if in.Spec.Interval != nil {
		return in.Spec.Interval.Duration
	}
	return 0
}

// SupportsCommitStatusExpr reports whether the Provider type is one of the
// Git commit status types for which spec.commitStatusExpr is allowed.
func (in *Provider) SupportsCommitStatusExpr() bool {
	switch in.Spec.Type {
	case GitHubProvider, GitLabProvider, GiteaProvider, BitbucketServerProvider,
		BitbucketProvider, AzureDevOpsProvider:
		return true
	}
	return false
}
