package v1beta3

// Values of Provider spec.type.
const (
	// SlackProvider posts to Slack (bot token or incoming webhook).
	SlackProvider string = "slack"
	// DiscordProvider posts to a Discord webhook.
	DiscordProvider string = "discord"
	// MSTeamsProvider posts to a Microsoft Teams workflow or webhook.
	MSTeamsProvider string = "msteams"
	// RocketProvider posts to a Rocket.Chat webhook.
	RocketProvider string = "rocket"
	// GenericProvider POSTs the event as JSON to any HTTP endpoint.
	GenericProvider string = "generic"
	// GenericHMACProvider is GenericProvider with an HMAC signature header.
	GenericHMACProvider string = "generic-hmac"
	// GitHubProvider sets GitHub commit statuses.
	GitHubProvider string = "github"
	// GitLabProvider sets GitLab commit statuses.
	GitLabProvider string = "gitlab"
	// GiteaProvider sets Gitea commit statuses.
	GiteaProvider string = "gitea"
	// GiteaPullRequestCommentProvider comments on Gitea pull requests.
	GiteaPullRequestCommentProvider string = "giteapullrequestcomment"
	// BitbucketServerProvider sets Bitbucket Server/Data Center build
	// statuses.
	BitbucketServerProvider string = "bitbucketserver"
	// BitbucketProvider sets Bitbucket Cloud build statuses.
	BitbucketProvider string = "bitbucket"
	// AzureDevOpsProvider sets Azure DevOps commit statuses.
	AzureDevOpsProvider string = "azuredevops"
	// GoogleChatProvider posts to a Google Chat webhook.
	GoogleChatProvider string = "googlechat"
	// GooglePubSubProvider publishes to a Google Cloud Pub/Sub topic.
	GooglePubSubProvider string = "googlepubsub"
	// WebexProvider posts to a Webex room.
	WebexProvider string = "webex"
	// SentryProvider sends to Sentry.
	SentryProvider string = "sentry"
	// AzureEventHubProvider sends to an Azure Event Hub.
	AzureEventHubProvider string = "azureeventhub"
	// TelegramProvider posts to a Telegram chat.
	TelegramProvider string = "telegram"
	// LarkProvider posts to a Lark webhook.
	LarkProvider string = "lark"
	// MatrixProvider posts to a Matrix room.
	MatrixProvider string = "matrix"
	// OpsgenieProvider creates Opsgenie alerts.
	OpsgenieProvider string = "opsgenie"
	// AlertManagerProvider sends to a Prometheus Alertmanager.
	AlertManagerProvider string = "alertmanager"
	// GrafanaProvider creates Grafana annotations.
	GrafanaProvider string = "grafana"
	// GitHubDispatchProvider triggers a GitHub repository_dispatch event.
	GitHubDispatchProvider string = "githubdispatch"
	// GitHubPullRequestCommentProvider comments on GitHub pull requests.
	GitHubPullRequestCommentProvider string = "githubpullrequestcomment"
	// GitLabMergeRequestCommentProvider comments on GitLab merge requests.
	GitLabMergeRequestCommentProvider string = "gitlabmergerequestcomment"
	// PagerDutyProvider sends PagerDuty events.
	PagerDutyProvider string = "pagerduty"
	// DataDogProvider sends Datadog events.
	DataDogProvider string = "datadog"
	// NATSProvider publishes to a NATS subject.
	NATSProvider string = "nats"
	// ZulipProvider posts to a Zulip stream.
	ZulipProvider string = "zulip"
	// OTELProvider exports events as OpenTelemetry traces.
	OTELProvider string = "otel"
	// ZoomProvider posts to a Zoom Team Chat webhook.
	ZoomProvider string = "zoom"
	// IncidentIOProvider sends alerts to incident.io.
	IncidentIOProvider string = "incident.io"
)
