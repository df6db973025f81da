package framework

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	notificationv1 "gotk.dev/notification-controller/api/v1"
)

// WebhookApp is the push-to-deploy workload: a Git repository holding one ConfigMap, a
// GitRepository and a Kustomization applying it, both with a one-hour interval so that only
// a webhook makes them act on a push, and a generic-hmac Receiver for the GitRepository.
// The journeys and the benchmark push a commit, sign a webhook and time until the
// ConfigMap in the cluster carries the pushed version.
type WebhookApp struct {
	// Namespace holds the Flux objects and the ConfigMap; Name names all of them.
	Namespace, Name string
	Repo            *GitRepo
	// Token is the Receiver's token; HookURL its webhook on notification-controller.
	Token, HookURL string

	env *Env
}

// webhookAppManifests are the Flux objects of a WebhookApp: name, namespace, Git URL.
const webhookAppManifests = `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: %[1]s, namespace: %[2]s}
spec: {url: %[3]q, interval: 1h, ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: %[1]s, namespace: %[2]s}
spec: {interval: 1h, prune: true, path: ./deploy, sourceRef: {kind: GitRepository, name: %[1]s}}
---
apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  type: generic-hmac
  secretRef: {name: %[1]s-webhook}
  resources: [{kind: GitRepository, name: %[1]s}]
`

// NewWebhookApp sets the workload up in namespace (created if needed) from the Git repository
// repoName (created, or reused when it exists), applies version "0" and returns once the
// ConfigMap is applied and the Receiver is Ready. notification-controller must run.
func (e *Env) NewWebhookApp(ctx context.Context, namespace, name, repoName string) (*WebhookApp, error) {
	nc, err := e.Controller("notification-controller")
	if err != nil {
		return nil, err
	}
	if err := e.CreateNamespace(ctx, namespace); err != nil {
		return nil, err
	}
	repo, err := e.CreateGitRepo(repoName)
	if err != nil {
		return nil, err
	}
	a := &WebhookApp{Namespace: namespace, Name: name, Repo: repo, env: e}
	if _, err := a.Push("0"); err != nil {
		return nil, err
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	a.Token = hex.EncodeToString(tok)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name + "-webhook"},
		StringData: map[string]string{"token": a.Token}}
	if err := e.Client.Create(ctx, secret); err != nil {
		return nil, fmt.Errorf("create the Receiver's token Secret: %w", err)
	}
	if _, err := e.Apply(ctx, fmt.Sprintf(webhookAppManifests, name, namespace, repo.HTTPURL)); err != nil {
		return nil, err
	}
	if err := a.WaitApplied(ctx, "0", 2*time.Minute); err != nil {
		return nil, err
	}
	rcv := &notificationv1.Receiver{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if err := e.WaitReady(ctx, rcv, time.Minute); err != nil {
		return nil, err
	}
	a.HookURL = "http://" + nc.ReceiverAddr + rcv.Status.WebhookPath
	return a, nil
}

// Push commits version as the ConfigMap's data and returns the commit hash.
func (a *WebhookApp) Push(version string) (string, error) {
	cm := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  version: %q\n",
		a.Name, a.Namespace, version)
	return a.Repo.Commit(map[string]string{"deploy/configmap.yaml": cm}, "version "+version)
}

// Hook posts a push notification signed with the Receiver's token (X-Signature: sha256=<HMAC
// of the body>), as a Git host configured with the webhook would.
func (a *WebhookApp) Hook(ctx context.Context) error {
	body := []byte(fmt.Sprintf(`{"ref":"refs/heads/%s","repository":%q}`, a.Repo.Branch, a.Repo.Name))
	mac := hmac.New(sha256.New, []byte(a.Token))
	mac.Write(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.HookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("webhook of Receiver %s/%s: %w", a.Namespace, a.Name, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("webhook of Receiver %s/%s answered %s: %s", a.Namespace, a.Name, resp.Status, msg)
	}
	return nil
}

// WaitApplied waits, through a watch (the moment counts, not a poll's period), until the
// ConfigMap in the cluster carries version.
func (a *WebhookApp) WaitApplied(ctx context.Context, version string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cms := a.env.Clientset.CoreV1().ConfigMaps(a.Namespace)
	sel := fields.OneTermEqualSelector("metadata.name", a.Name).String()
	for {
		list, err := cms.List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			return fmt.Errorf("waiting for ConfigMap %s/%s version %q: %w", a.Namespace, a.Name, version, err)
		}
		if len(list.Items) == 1 && list.Items[0].Data["version"] == version {
			return nil
		}
		w, err := cms.Watch(ctx, metav1.ListOptions{FieldSelector: sel, ResourceVersion: list.ResourceVersion})
		if err != nil {
			return fmt.Errorf("waiting for ConfigMap %s/%s version %q: %w", a.Namespace, a.Name, version, err)
		}
		done, err := watchFor(ctx, w, version)
		w.Stop()
		if done || err != nil {
			if err != nil {
				return fmt.Errorf("waiting for ConfigMap %s/%s version %q: %w\n%s", a.Namespace, a.Name, version, err,
					a.env.diagnose("Kustomization", a.kustomization(ctx)))
			}
			return nil
		}
	}
}

// watchFor reads w until a ConfigMap with version arrives (true), the watch ends (false,
// to list again) or ctx ends.
func watchFor(ctx context.Context, w watch.Interface, version string) (bool, error) {
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				return false, nil
			}
			if cm, isCM := ev.Object.(*corev1.ConfigMap); isCM && ev.Type != watch.Deleted && cm.Data["version"] == version {
				return true, nil
			}
		}
	}
}

// kustomization is the workload's Kustomization as it is now, for diagnostics.
func (a *WebhookApp) kustomization(ctx context.Context) client.Object {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("kustomize.toolkit.fluxcd.io/v1")
	u.SetKind("Kustomization")
	u.SetNamespace(a.Namespace)
	u.SetName(a.Name)
	_ = a.env.Client.Get(context.WithoutCancel(ctx), client.ObjectKeyFromObject(u), u)
	return u
}
