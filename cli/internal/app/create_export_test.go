package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotk.dev/internal/testing/golden"

	"sigs.k8s.io/yaml"
)

// TestCreateExport compares flux create ... --export with golden files. No cluster exists
// (the kubeconfig is missing): --export must not need one, and must print nothing on stderr.
func TestCreateExport(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"create-source-git-branch", []string{"source", "git", "podinfo", "--url=https://github.com/stefanprodan/podinfo"}},
		{"create-source-git-tag-labels", []string{"source", "git", "podinfo", "--url=https://github.com/stefanprodan/podinfo",
			"--tag=6.0.0", "--interval=10m", "--label=app=podinfo,tier=frontend", "--namespace=apps"}},
		{"create-source-git-semver-ignore", []string{"source", "git", "podinfo", "--url=ssh://git@github.com/stefanprodan/podinfo",
			"--tag-semver=>=6.0.0 <7.0.0", "--secret-ref=podinfo-ssh", "--ignore-paths=/*.md,/docs/", "--recurse-submodules"}},
		{"create-source-git-commit-branch", []string{"source", "git", "podinfo", "--url=http://git.example.com/podinfo.git",
			"--commit=0123456789abcdef0123456789abcdef01234567", "--branch=main"}},
		{"create-source-git-ref-name", []string{"source", "git", "podinfo", "--url=https://github.com/stefanprodan/podinfo",
			"--ref-name=refs/pull/1/head"}},
		{"create-source-oci-tag", []string{"source", "oci", "podinfo", "--url=oci://ghcr.io/stefanprodan/manifests/podinfo",
			"--tag=6.1.6", "--interval=10m"}},
		{"create-source-oci-semver-digest-auth", []string{"source", "oci", "podinfo", "--url=oci://registry.example.com:5000/podinfo",
			"--tag-semver=6.x", "--digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			"--secret-ref=regcred", "--insecure", "--provider=aws", "--ignore-paths=*.md"}},
		{"create-kustomization-defaults", []string{"kustomization", "podinfo", "--source=podinfo"}},
		{"create-kustomization-full", []string{"ks", "podinfo", "--source=OCIRepository/podinfo.sources", "--path=deploy/overlays/prod/",
			"--prune", "--wait", "--interval=10m", "--retry-interval=2m", "--health-check-timeout=3m",
			"--health-check=Deployment/podinfo.apps,HelmRelease/redis.apps", "--depends-on=infra,databases/postgres",
			"--target-namespace=apps", "--service-account=deployer", "--decryption-provider=sops", "--decryption-secret=sops-age",
			"--label=team=a"}},
		{"create-kustomization-bucket", []string{"kustomization", "podinfo", "--source=Bucket/podinfo", "--path=./"}},
		{"create-helmrelease-source", []string{"helmrelease", "podinfo", "--source=HelmRepository/podinfo.flux-system",
			"--chart=podinfo", "--chart-version=>4.0.0"}},
		{"create-helmrelease-chart-ref", []string{"hr", "podinfo", "--chart-ref=OCIRepository/podinfo.sources", "--interval=10m",
			"--values=testdata/create-hr-values-1.yaml,testdata/create-hr-values-2.yaml", "--values-from=Secret/podinfo-values,configmap/shared",
			"--release-name=podinfo-prod", "--target-namespace=apps", "--create-target-namespace", "--depends-on=infra,databases/postgres",
			"--service-account=deployer", "--crds=CreateReplace", "--label=team=a"}},
		{"create-helmrelease-git-chart", []string{"hr", "podinfo", "--source=GitRepository/podinfo", "--chart=./charts/podinfo",
			"--reconcile-strategy=Revision", "--chart-interval=5m", "--kubeconfig-secret-ref=prod-kubeconfig"}},
		{"create-secret-git-basic", []string{"secret", "git", "podinfo-auth", "--url=https://github.com/stefanprodan/podinfo",
			"--username=user", "--password=s3cr3t"}},
		{"create-secret-git-bearer-ca", []string{"secret", "git", "podinfo-auth", "--url=https://git.example.com/podinfo",
			"--bearer-token=t0k3n", "--ca-crt-file=testdata/create-ca.crt", "--label=env=dev"}},
		{"create-secret-oci", []string{"secret", "oci", "ghcr-auth", "--url=ghcr.io", "--username=user", "--password=s3cr3t"}},
		{"create-alert", []string{"alert", "flux-system", "--event-severity=info", "--provider-ref=slack",
			"--event-source=Kustomization/flux-system,kustomization/apps.tenants", "--event-source=GitRepository/*", "--label=team=a"}},
		{"create-alert-provider", []string{"alert-provider", "slack", "--type=slack", "--channel=general",
			"--address=https://slack.com/api/chat.postMessage", "--secret-ref=slack-token", "--username=flux"}},
		{"create-alert-provider-github", []string{"alert-provider", "github-status", "--type=github",
			"--address=https://github.com/stefanprodan/podinfo", "--secret-ref=github-token", "--namespace=apps"}},
		{"create-receiver", []string{"receiver", "github-receiver", "--type=github", "--event=ping", "--event=push",
			"--secret-ref=webhook-token", "--resource=GitRepository/webapp,HelmRepository/webapp"}},
		{"create-secret-receiver", []string{"secret", "receiver", "github-receiver", "--type=github", "--hostname=flux.example.com",
			"--token=0123456789abcdef", "--namespace=apps"}},
		{"create-secret-receiver-gcr", []string{"secret", "receiver", "gcr-receiver", "--type=gcr", "--hostname=flux.example.com",
			"--token=0123456789abcdef", "--email-claim=sa@project.iam.gserviceaccount.com"}},
		{"create-source-helm-https", []string{"source", "helm", "podinfo", "--url=https://stefanprodan.github.io/podinfo",
			"--interval=10m", "--pass-credentials", "--fetch-timeout=2m", "--secret-ref=podinfo-auth"}},
		{"create-source-helm-oci", []string{"source", "helm", "podinfo", "--url=oci://ghcr.io/stefanprodan/charts",
			"--secret-ref=ghcr-auth", "--oci-provider=aws"}},
		{"create-source-chart-helmrepository", []string{"source", "chart", "podinfo", "--source=HelmRepository/podinfo",
			"--chart=podinfo", "--chart-version=6.x"}},
		{"create-source-chart-git-revision", []string{"source", "chart", "podinfo", "--source=GitRepository/podinfo",
			"--chart=./charts/podinfo", "--reconcile-strategy=Revision", "--label=team=a", "--namespace=apps"}},
		{"create-source-bucket", []string{"source", "bucket", "podinfo", "--bucket-name=podinfo",
			"--endpoint=minio.minio.svc.cluster.local:9000", "--insecure", "--region=us-east-1", "--secret-ref=minio-auth",
			"--ignore-paths=*.md,/docs/", "--fetch-timeout=30s", "--interval=10m"}},
		{"create-secret-helm", []string{"secret", "helm", "repo-auth", "--username=user", "--password=s3cr3t",
			"--ca-crt-file=testdata/create-ca.crt"}},
		{"create-secret-tls", []string{"secret", "tls", "certs", "--tls-crt-file=testdata/create-tls.crt",
			"--tls-key-file=testdata/create-tls.key", "--ca-crt-file=testdata/create-ca.crt"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"create"}, tt.args...)
			args = append(args, "--export", "--kubeconfig="+filepath.Join(t.TempDir(), "missing"))
			r := runFlux(t, "", args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(strings.TrimPrefix(r.stdout, "---\n")), &obj); err != nil || obj["kind"] == nil {
				t.Fatalf("export is not one YAML object: %v\n%s", err, r.stdout)
			}
			golden.Assert(t, tt.golden, r.stdout)
		})
	}
}

// TestCreateBadInput: wrong flags fail before anything reaches a cluster (none exists), with
// an error naming the flag, and secrets given on the command line never show in errors.
func TestCreateBadInput(t *testing.T) {
	const secret = "pa55w0rd-n0t-t0-pr1nt"
	badKey := filepath.Join(t.TempDir(), "bad-key")
	if err := os.WriteFile(badKey, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n"+secret+"\n-----END OPENSSH PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"source", "git"}, "✗ GitRepository source name is required"},
		{[]string{"source", "git", "Bad_Name", "--url=https://h/r"}, `invalid GitRepository source name "Bad_Name"`},
		{[]string{"source", "git", "x"}, "✗ --url is required"},
		{[]string{"source", "git", "x", "--url=ftp://h/r"}, "git URL scheme 'ftp' not supported, can be: ssh, http and https"},
		{[]string{"source", "git", "x", "--url=https://h/r", "--branch="}, "a Git ref is required"},
		{[]string{"source", "git", "x", "--url=https://h/r", "--label=novalue"}, `invalid label "novalue": must be key=value`},
		{[]string{"source", "git", "x", "--url=https://h/r", "--label=a=b c"}, `invalid label value "b c"`},
		{[]string{"source", "oci", "x", "--tag=1"}, "--url is required"},
		{[]string{"source", "oci", "x", "--url=https://ghcr.io/x", "--tag=1"}, "it must start with oci://"},
		{[]string{"source", "oci", "x", "--url=oci://ghcr.io/x"}, "one of --tag, --tag-semver or --digest is required"},
		{[]string{"source", "oci", "x", "--url=oci://ghcr.io/x", "--tag=1", "--provider=ibm"}, `invalid --provider "ibm"`},
		{[]string{"kustomization", "x"}, "--source is required"},
		{[]string{"kustomization", "x", "--source=HelmRepository/x"}, "source kind HelmRepository is not supported, can be GitRepository, OCIRepository or Bucket"},
		{[]string{"kustomization", "x", "--source=x", "--path=../up"}, `invalid --path "../up": it leaves the source root`},
		{[]string{"kustomization", "x", "--source=x", "--path=/abs"}, "it must be relative"},
		{[]string{"kustomization", "x", "--source=x", "--health-check=Deployment/x"}, "invalid health check 'Deployment/x' must be in format 'kind/name.namespace'"},
		{[]string{"kustomization", "x", "--source=x", "--health-check=Pod/x.y"}, "invalid health check kind 'Pod'"},
		{[]string{"kustomization", "x", "--source=x", "--decryption-secret=s"}, "--decryption-secret needs --decryption-provider=sops"},
		{[]string{"kustomization", "x", "--source=x", "--decryption-provider=vault"}, `invalid --decryption-provider "vault"`},
		{[]string{"helmrelease", "x"}, "chart name or path is required"},
		{[]string{"helmrelease", "x", "--chart=podinfo"}, "--source is required with --chart"},
		{[]string{"helmrelease", "x", "--chart=podinfo", "--source=OCIRepository/x"}, `invalid --source "OCIRepository/x": want <kind>/<name>.<namespace> with kind one of HelmRepository, GitRepository, Bucket`},
		{[]string{"helmrelease", "x", "--chart-ref=OCIRepository/x", "--chart=podinfo"}, "--chart-ref cannot be combined with --source or --chart"},
		{[]string{"helmrelease", "x", "--chart-ref=GitRepository/x"}, `invalid --chart-ref "GitRepository/x"`},
		{[]string{"helmrelease", "x", "--chart-ref=HelmChart/x", "--crds=Replace"}, `invalid --crds "Replace": can be Skip, Create or CreateReplace`},
		{[]string{"helmrelease", "x", "--chart-ref=HelmChart/x", "--values-from=Pod/x"}, `invalid --values-from "Pod/x"`},
		{[]string{"helmrelease", "x", "--chart-ref=HelmChart/x", "--values=testdata/missing.yaml"}, "reading values from testdata/missing.yaml failed"},
		{[]string{"helmrelease", "x", "--chart=c", "--source=HelmRepository/r", "--reconcile-strategy=Always"}, "'Always' is an invalid reconcile strategy"},
		{[]string{"secret", "git", "x", "--url=https://h/r"}, "the username and password, or a bearer token, are required"},
		{[]string{"secret", "git", "x", "--url=https://h/r", "--username=u"}, "--username and --password go together"},
		{[]string{"secret", "git", "x", "--url=https://h/r", "--username=u", "--password=" + secret, "--bearer-token=" + secret}, "user credentials and bearer token cannot be used together"},
		{[]string{"secret", "git", "x", "--url=https://u:" + secret + "@h/r%zz", "--username=u", "--password=p"}, "invalid --url"},
		{[]string{"secret", "git", "x", "--url=ssh://git@127.0.0.1:1/r", "--private-key-file=" + badKey}, "is not a valid SSH private key"},
		{[]string{"secret", "git", "x", "--url=ssh://git@127.0.0.1:1/r", "--ssh-key-algorithm=dsa"}, `invalid --ssh-key-algorithm "dsa"`},
		{[]string{"secret", "git", "x", "--url=ssh://git@127.0.0.1:1/r", "--ssh-key-algorithm=ecdsa", "--ssh-ecdsa-curve=p224"}, `invalid --ssh-ecdsa-curve "p224"`},
		{[]string{"secret", "git", "x", "--url=ssh://git@127.0.0.1:1/r", "--ssh-key-algorithm=rsa", "--ssh-rsa-bits=1000"}, "invalid --ssh-rsa-bits 1000"},
		{[]string{"secret", "git", "x", "--url=ssh://git@127.0.0.1:1/r", "--ssh-key-algorithm=ed25519"}, "cannot get the SSH host key of 127.0.0.1:1"},
		{[]string{"secret", "oci", "x", "--url=https://ghcr.io", "-u=u", "-p=" + secret}, "give the registry host without scheme"},
		{[]string{"secret", "oci", "x", "--url=ghcr.io", "-u=u"}, "--username and --password are required"},
		{[]string{"alert", "x", "--event-source=Kustomization/x"}, "provider ref is required"},
		{[]string{"alert", "x", "--provider-ref=p"}, "at least one event source is required"},
		{[]string{"alert", "x", "--provider-ref=p", "--event-source=Kustomization"}, "invalid event source 'Kustomization', must be in format <kind>/<name>"},
		{[]string{"alert", "x", "--provider-ref=p", "--event-source=Kustomization/x", "--event-severity=warning"}, `invalid --event-severity "warning"`},
		{[]string{"alert-provider", "x"}, "Provider type is required"},
		{[]string{"receiver", "x", "--secret-ref=s", "--resource=GitRepository/x"}, "Receiver type is required"},
		{[]string{"receiver", "x", "--type=github", "--resource=GitRepository/x"}, "secret ref is required"},
		{[]string{"receiver", "x", "--type=github", "--secret-ref=s"}, "at least one resource is required"},
		{[]string{"secret", "receiver", "x", "--hostname=h"}, "--type is required"},
		{[]string{"secret", "receiver", "x", "--type=svn", "--hostname=h"}, `invalid --type "svn"`},
		{[]string{"secret", "receiver", "x", "--type=github"}, "--hostname is required"},
		{[]string{"secret", "receiver", "x", "--type=gcr", "--hostname=h", "--token=" + secret}, "--email-claim is required for gcr receiver type"},
		{[]string{"source", "helm", "x"}, "--url is required"},
		{[]string{"source", "helm", "x", "--url=ftp://charts.example.com"}, `scheme "ftp" is not supported`},
		{[]string{"source", "helm", "x", "--url=https://u:" + secret + "@charts.example.com"}, "put credentials in --username and --password"},
		{[]string{"source", "helm", "x", "--url=https://charts.example.com", "--oci-provider=aws"}, "--oci-provider is only for oci:// URLs"},
		{[]string{"source", "helm", "x", "--url=oci://ghcr.io/x", "--oci-provider=ibm"}, `invalid --oci-provider "ibm"`},
		{[]string{"source", "helm", "x", "--url=https://charts.example.com", "-u=u"}, "--username and --password go together"},
		{[]string{"source", "chart", "x", "--chart=podinfo"}, "--source is required"},
		{[]string{"source", "chart", "x", "--source=podinfo", "--chart=podinfo"}, `invalid --source "podinfo": want <kind>/<name>`},
		{[]string{"source", "chart", "x", "--source=OCIRepository/podinfo", "--chart=podinfo"}, `invalid --source kind "OCIRepository"`},
		{[]string{"source", "chart", "x", "--source=HelmRepository/podinfo"}, "--chart is required"},
		{[]string{"source", "chart", "x", "--source=HelmRepository/p", "--chart=p", "--reconcile-strategy=Always"}, `invalid --reconcile-strategy "Always"`},
		{[]string{"source", "bucket", "x", "--endpoint=s3.amazonaws.com"}, "--bucket-name is required"},
		{[]string{"source", "bucket", "x", "--bucket-name=b"}, "--endpoint is required"},
		{[]string{"source", "bucket", "x", "--bucket-name=b", "--endpoint=e", "--access-key=a"}, "--access-key and --secret-key go together"},
		{[]string{"source", "bucket", "x", "--bucket-name=b", "--endpoint=e", "--provider=ibm"}, `invalid --provider "ibm"`},
		{[]string{"secret", "helm", "x"}, "--username and --password (or TLS files) are required"},
		{[]string{"secret", "tls", "x", "--tls-crt-file=testdata/create-tls.crt"}, "--tls-crt-file and --tls-key-file go together"},
		{[]string{"secret", "tls", "x", "--tls-crt-file=testdata/create-ca.crt", "--tls-key-file=testdata/create-tls.key"}, "are not a PEM certificate and its private key"},
		{[]string{"secret", "tls", "x", "--ca-crt-file=testdata/create-tls.key"}, "--ca-crt-file holds no PEM certificate"},
		{[]string{"secret", "tls", "x"}, "at least one of --tls-crt-file with --tls-key-file, or --ca-crt-file, is required"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"create"}, tt.args...)
			args = append(args, "--export", "--kubeconfig="+filepath.Join(t.TempDir(), "missing"))
			r := runFlux(t, "", args...)
			if r.code != 1 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
			}
			wants(t, "stderr", r.stderr, tt.want)
			if strings.Contains(r.stderr, secret) {
				t.Errorf("a secret was printed:\n%s", r.stderr)
			}
		})
	}
}
