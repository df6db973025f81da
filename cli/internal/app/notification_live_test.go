package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"gotk.dev/e2e/framework"
)

// TestNotificationLifecycle drives the notification commands against a local cluster with
// the real source-, kustomize- and notification-controller: create secret receiver,
// receiver, alert-provider and alert; get them; trigger the Receiver's webhook so a pushed
// commit is applied; suspend (the webhook is refused), resume and reconcile the Receiver;
// export; delete.
func TestNotificationLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster with Flux controllers")
	}
	opts, err := framework.OptionsFromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	fw := framework.Setup(t, opts.WithControllers("source-controller", "kustomize-controller", "notification-controller"))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := &opEnv{Env: fw, kubeconfig: fw.Cluster.Kubeconfig, ctx: ctx}
	nc, err := e.Controller("notification-controller")
	if err != nil {
		t.Fatal(err)
	}
	repo, err := e.CreateGitRepo("hooked")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Commit(configMapManifests("hooked-config", "1"), "v1"); err != nil {
		t.Fatal(err)
	}
	e.ok(t, "create", "source", "git", "hooked", "--url="+repo.HTTPURL, "--branch=main", "--interval=1h")
	e.ok(t, "create", "kustomization", "hooked", "--source=GitRepository/hooked", "--path=./deploy", "--prune", "--interval=1h")

	const token = "l1ve-t0ken"
	sum := sha256.Sum256([]byte(token + "hook" + "flux-system"))
	path := "/hook/" + hex.EncodeToString(sum[:])
	r := e.ok(t, "create", "secret", "receiver", "hook", "--type=generic-hmac", "--hostname=flux.example.com", "--token="+token)
	wantStderr(t, r, "► receiver secret 'hook' created in 'flux-system' namespace\n✔ webhook URL https://flux.example.com"+path+"\n")
	if s := e.secret(t, "hook"); s == nil || string(s.Data["token"]) != token {
		t.Fatalf("receiver secret: %+v", s)
	}

	r = e.ok(t, "create", "receiver", "hook", "--type=generic-hmac", "--secret-ref=hook", "--resource=GitRepository/hooked")
	wantStderr(t, r, `✚ generating Receiver
► applying Receiver
✔ Receiver created
◎ waiting for Receiver reconciliation
✔ Receiver hook is ready
✔ generated webhook URL `+path+"\n")
	r = e.ok(t, "create", "alert-provider", "chat", "--type=generic", "--address=http://127.0.0.1:1/chat")
	wantStderr(t, r, "✚ generating Provider\n► applying Provider\n✔ Provider created\n◎ waiting for Provider reconciliation\n✔ Provider chat is ready\n")
	r = e.ok(t, "create", "alert", "chat", "--provider-ref=chat", "--event-source=Kustomization/*", "--event-severity=error")
	wantStderr(t, r, "✚ generating Alert\n► applying Alert\n✔ Alert created\n◎ waiting for Alert reconciliation\n✔ Alert chat is ready\n")

	r = e.ok(t, "get", "alerts")
	wants(t, "stdout", r.stdout, "NAME\tSUSPENDED\tREADY\tMESSAGE", "chat\tFalse    \tTrue \tAlert is Ready")
	r = e.ok(t, "get", "alert-providers")
	wants(t, "stdout", r.stdout, "chat\tFalse    \tTrue \tProvider is Ready")
	r = e.ok(t, "get", "receivers")
	wants(t, "stdout", r.stdout, "hook\tFalse    \tTrue \tReceiver initialised for path: "+path)

	// The signed webhook makes the GitRepository fetch at once (its interval is an hour).
	if _, err := repo.Commit(configMapManifests("hooked-config", "2"), "v2"); err != nil {
		t.Fatal(err)
	}
	url := "--url=http://" + nc.ReceiverAddr
	r = e.ok(t, "trigger", "receiver", "hook", "--type=generic-hmac", "--token="+token, url, "--payload={\"ref\":\"main\"}")
	wantStderr(t, r, "► triggering Receiver flux-system/hook\n✔ Receiver flux-system/hook triggered\n")
	e.waitConfigMap(t, "hooked-config", "2")
	// A wrong token makes another path: nothing is served there.
	e.fails(t, "", []string{"trigger", "receiver", "hook", "--type=generic-hmac", "--token=guess", url, "--retries=0"}, "404 Not Found")

	e.ok(t, "suspend", "receiver", "hook")
	waitFor(t, "the suspension to reach the webhook server", func() bool {
		r := e.flux(t, "", "trigger", "receiver", "hook", "--type=generic-hmac", "--token="+token, url, "--retries=0")
		return r.code == 1 && strings.Contains(r.stderr, "503")
	})
	r = e.ok(t, "resume", "receiver", "hook")
	wants(t, "stderr", r.stderr, "✔ Receiver reconciliation completed")
	r = e.ok(t, "reconcile", "receiver", "hook")
	wants(t, "stderr", r.stderr, "► annotating Receiver hook in flux-system namespace", "✔ Receiver reconciliation completed")
	e.ok(t, "suspend", "alert", "chat")
	e.ok(t, "resume", "alert-provider", "chat")

	r = e.ok(t, "export", "receiver", "hook")
	wants(t, "stdout", r.stdout, "kind: Receiver", "type: generic-hmac", "name: hook")
	if strings.Contains(r.stdout, "status:") {
		t.Errorf("export carries the status:\n%s", r.stdout)
	}
	r = e.ok(t, "export", "alert", "chat")
	wants(t, "stdout", r.stdout, "kind: Alert", "suspend: true")
	r = e.ok(t, "export", "alert-provider", "--all")
	wants(t, "stdout", r.stdout, "kind: Provider", "address: http://127.0.0.1:1/chat")

	for _, args := range [][]string{{"alert", "chat"}, {"alert-provider", "chat"}, {"receiver", "hook"}} {
		r := e.ok(t, append([]string{"delete"}, append(args, "--silent")...)...)
		wants(t, "stderr", r.stderr, "deleted")
	}
	r = e.flux(t, "", "get", "receivers")
	wants(t, "stderr", r.stderr, "no Receiver objects found in flux-system namespace")
}

// waitConfigMap waits until ConfigMap default/name has data.version.
func (e *opEnv) waitConfigMap(t *testing.T, name, version string) {
	t.Helper()
	waitFor(t, "ConfigMap "+name+" version "+version, func() bool { return e.configMapData(t, name, "version") == version })
}
