package app

import (
	"fmt"
	"regexp"

	"gotk.dev/cli/pkg/bootstrap/provider"
)

// Where each host's token comes from, as upstream.
const (
	bootstrapGitHubTokenEnv    = "GITHUB_TOKEN"
	bootstrapGitLabTokenEnv    = "GITLAB_TOKEN"
	bootstrapGiteaTokenEnv     = "GITEA_TOKEN"
	bootstrapBitbucketTokenEnv = "BITBUCKET_TOKEN"
)

// gitlabProjectName is what GitLab accepts as a project name: letters, digits, emoji, '_',
// '.' and dashes, starting with a letter, digit, emoji or '_'.
var gitlabProjectName = regexp.MustCompile(`^[\p{L}\p{N}\p{So}_][\p{L}\p{N}\p{So}\p{Pd}_.]*$`)

const bootstrapHostLong = `The bootstrap %[1]s command creates the %[2]s repository if it doesn't exist and
commits the Flux manifests to the specified branch.
Then it configures the target cluster to synchronize with that repository.
If the Flux components are present on the cluster,
the bootstrap command will perform an upgrade if needed.`

// bootstrapHosts are the hosts bootstrap creates repositories and deploy keys on.
func bootstrapHosts() []bootstrapHost {
	return []bootstrapHost{
		{
			use: "github", name: "GitHub", tokenEnv: bootstrapGitHubTokenEnv, defaultHostname: "github.com",
			short: "Deploy Flux on a cluster connected to a GitHub repository",
			long:  fmt.Sprintf(bootstrapHostLong, "github", "GitHub"),
			example: `  # Create a GitHub personal access token and export it as an env var
  export GITHUB_TOKEN=<my-token>

  # Run bootstrap for a private repository owned by a GitHub organization
  flux bootstrap github --owner=<organization> --repository=<repository name> --path=clusters/my-cluster

  # Run bootstrap for a private repository and assign organization teams to it
  flux bootstrap github --owner=<organization> --repository=<repository name> --team=<team1 slug> --team=<team2 slug>:admin --path=clusters/my-cluster

  # Run bootstrap for a public repository on a personal account
  flux bootstrap github --owner=<user> --repository=<repository name> --private=false --personal=true --path=clusters/my-cluster

  # Run bootstrap for a repository on GitHub Enterprise
  flux bootstrap github --owner=<organization> --repository=<repository name> --hostname=<domain> --path=clusters/my-cluster`,
			ownerHelp: "GitHub user or organization name", teamFlag: "team", defaultPermission: "maintain",
			teamHelp:     "GitHub team and the access to be given to it(team:maintain). Defaults to maintainer access if no access level is specified (also accepts comma-separated values)",
			personalHelp: "if true, the owner is assumed to be a GitHub user; otherwise an org",
			newClient: func(f *bootstrapHostFlags, token string, ca []byte) (provider.Client, error) {
				return provider.NewGitHub(f.hostname, token, ca)
			},
		},
		{
			use: "gitlab", name: "GitLab", tokenEnv: bootstrapGitLabTokenEnv, defaultHostname: "gitlab.com",
			short: "Deploy Flux on a cluster connected to a GitLab repository",
			long:  fmt.Sprintf(bootstrapHostLong, "gitlab", "GitLab"),
			example: `  # Create a GitLab API token and export it as an env var
  export GITLAB_TOKEN=<my-token>

  # Run bootstrap for a private repository using HTTPS token authentication
  flux bootstrap gitlab --owner=<group> --repository=<repository name> --token-auth

  # Run bootstrap for a private repository using SSH authentication
  flux bootstrap gitlab --owner=<group> --repository=<repository name>

  # Run bootstrap for a public repository on a personal account
  flux bootstrap gitlab --owner=<user> --repository=<repository name> --visibility=public --personal --token-auth

  # Run bootstrap for a private repository hosted on a GitLab server
  flux bootstrap gitlab --owner=<group> --repository=<repository name> --hostname=<domain> --token-auth

  # Run bootstrap for a private repository using Deploy Token authentication
  flux bootstrap gitlab --owner=<group> --repository=<repository name> --deploy-token-auth`,
			ownerHelp: "GitLab user or group name", teamFlag: "team", defaultPermission: "maintain",
			teamHelp:     "GitLab teams to be given maintainer access (also accepts comma-separated values)",
			personalHelp: "if true, the owner is assumed to be a GitLab user; otherwise a group",
			deployTokens: true,
			validate: func(f *bootstrapHostFlags) error {
				if !gitlabProjectName.MatchString(f.repository) {
					return fmt.Errorf("%s is an invalid project name for gitlab: it can contain only letters, digits, emojis, '_', '.' and dashes, and must start with a letter, digit, emoji or '_'", f.repository)
				}
				return nil
			},
			newClient: func(f *bootstrapHostFlags, token string, ca []byte) (provider.Client, error) {
				return provider.NewGitLab(f.hostname, token, ca)
			},
		},
		{
			use: "gitea", name: "Gitea", tokenEnv: bootstrapGiteaTokenEnv, defaultHostname: "gitea.com",
			short: "Deploy Flux on a cluster connected to a Gitea repository",
			long:  fmt.Sprintf(bootstrapHostLong, "gitea", "Gitea"),
			example: `  # Create a Gitea personal access token and export it as an env var
  export GITEA_TOKEN=<my-token>

  # Run bootstrap for a private repository owned by a Gitea organization
  flux bootstrap gitea --owner=<organization> --repository=<repository name> --path=clusters/my-cluster

  # Run bootstrap for a public repository on a personal account
  flux bootstrap gitea --owner=<user> --repository=<repository name> --private=false --personal=true --path=clusters/my-cluster

  # Run bootstrap for a private repository hosted on a Gitea server using HTTPS auth
  flux bootstrap gitea --owner=<organization> --repository=<repository name> --hostname=<domain> --token-auth --path=clusters/my-cluster`,
			ownerHelp: "Gitea user or organization name", teamFlag: "team", defaultPermission: "maintain",
			teamHelp:     "Gitea team and the access to be given to it(team:maintain). Defaults to maintainer access if no access level is specified (also accepts comma-separated values)",
			personalHelp: "if true, the owner is assumed to be a Gitea user; otherwise an org",
			newClient: func(f *bootstrapHostFlags, token string, ca []byte) (provider.Client, error) {
				return provider.NewGitea(f.hostname, token, ca)
			},
		},
		{
			use: "bitbucket-server", name: "Bitbucket Server", tokenEnv: bootstrapBitbucketTokenEnv,
			short: "Deploy Flux on a cluster connected to a Bitbucket Server repository",
			long:  fmt.Sprintf(bootstrapHostLong, "bitbucket-server", "Bitbucket Server"),
			example: `  # Create a Bitbucket Server API token and export it as an env var
  export BITBUCKET_TOKEN=<my-token>

  # Run bootstrap for a private repository using HTTPS token authentication
  flux bootstrap bitbucket-server --owner=<project> --username=<user> --repository=<repository name> --hostname=<domain> --token-auth --path=clusters/my-cluster

  # Run bootstrap for a private repository using SSH authentication
  flux bootstrap bitbucket-server --owner=<project> --username=<user> --repository=<repository name> --hostname=<domain> --path=clusters/my-cluster

  # Run bootstrap for a public repository on a personal account
  flux bootstrap bitbucket-server --owner=<user> --repository=<repository name> --private=false --personal --hostname=<domain> --token-auth --path=clusters/my-cluster`,
			ownerHelp: "Bitbucket Server user or project name", teamFlag: "group", defaultPermission: "push",
			teamHelp:     "Bitbucket Server groups to be given write access (also accepts comma-separated values)",
			personalHelp: "if true, the owner is assumed to be a Bitbucket Server user; otherwise a group",
			username:     true,
			newClient: func(f *bootstrapHostFlags, token string, ca []byte) (provider.Client, error) {
				user := f.username
				if f.personal {
					user = f.owner
				}
				return provider.NewBitbucketServer(f.hostname, user, token, ca)
			},
		},
	}
}
