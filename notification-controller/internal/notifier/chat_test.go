package notifier

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"

	"gotk.dev/notification-controller/api/v1beta3"
)

// TestWebhookProviders posts one event to each HTTP provider and checks the request against
// the provider's documented API: method, path, auth and the payload's shape.
func TestWebhookProviders(t *testing.T) {
	tests := []struct {
		name    string
		opts    func(addr string) Options
		answer  string
		check   func(t *testing.T, c captured)
		sev     string
		minReqs int
	}{
		{
			name: "generic",
			opts: func(a string) Options {
				return Options{Type: v1beta3.GenericProvider, Address: a + "/hook", Headers: map[string]string{"X-Team": "platform"}}
			},
			check: func(t *testing.T, c captured) {
				expect(t, "method", c.method, http.MethodPost)
				expect(t, "path", c.path, "/hook")
				expect(t, "Gotk-Component", c.header.Get("Gotk-Component"), "kustomize-controller")
				expect(t, "custom header", c.header.Get("X-Team"), "platform")
				expect(t, "content type", c.header.Get("Content-Type"), "application/json")
				var ev eventv1.Event
				if err := json.Unmarshal(c.body, &ev); err != nil {
					t.Fatal(err)
				}
				expect(t, "involvedObject.name", ev.InvolvedObject.Name, "webapp")
				expect(t, "metadata.revision", ev.Metadata["revision"], "main@sha1:"+testSHA)
			},
		},
		{
			name: "generic-hmac",
			opts: func(a string) Options {
				return Options{Type: v1beta3.GenericHMACProvider, Address: a, Token: "hmac-key"}
			},
			check: func(t *testing.T, c captured) {
				m := hmac.New(sha256.New, []byte("hmac-key"))
				m.Write(c.body)
				expect(t, "X-Signature", c.header.Get("X-Signature"), "sha256="+hex.EncodeToString(m.Sum(nil)))
			},
		},
		{
			name: "slack bot token",
			opts: func(a string) Options {
				return Options{Type: v1beta3.SlackProvider, Address: a + "/api/chat.postMessage", Channel: "general", Token: "xoxb-secret"}
			},
			answer: `{"ok":true}`,
			check: func(t *testing.T, c captured) {
				expect(t, "path", c.path, "/api/chat.postMessage")
				expect(t, "Authorization", c.header.Get("Authorization"), "Bearer xoxb-secret")
				b := jsonBody(t, c)
				expect(t, "channel", b["channel"], "general")
				expect(t, "username", b["username"], "kustomize-controller")
				expect(t, "color", dig(t, b, "attachments", 0, "color"), "danger")
				expect(t, "author", dig(t, b, "attachments", 0, "author_name"), "kustomization/webapp.apps")
				expect(t, "text", dig(t, b, "attachments", 0, "text"), testEvent("error").Message)
				expect(t, "field title", dig(t, b, "attachments", 0, "fields", 0, "title"), "revision")
				expect(t, "field value", dig(t, b, "attachments", 0, "fields", 1, "value"), "prod cluster")
			},
		},
		{
			name: "slack incoming webhook",
			opts: func(a string) Options {
				return Options{Type: v1beta3.SlackProvider, Address: a + "/services/T0/B0/XXXX", Username: "flux"}
			},
			sev:    eventv1.EventSeverityInfo,
			answer: "ok",
			check: func(t *testing.T, c captured) {
				expect(t, "Authorization", c.header.Get("Authorization"), "")
				b := jsonBody(t, c)
				expect(t, "username", b["username"], "flux")
				expect(t, "channel", b["channel"], nil)
				expect(t, "color", dig(t, b, "attachments", 0, "color"), "good")
			},
		},
		{
			name: "discord",
			opts: func(a string) Options {
				return Options{Type: v1beta3.DiscordProvider, Address: a + "/api/webhooks/123/tok"}
			},
			check: func(t *testing.T, c captured) {
				expect(t, "path", c.path, "/api/webhooks/123/tok/slack")
				expect(t, "author", dig(t, jsonBody(t, c), "attachments", 0, "author_name"), "kustomization/webapp.apps")
			},
		},
		{
			name: "rocket",
			opts: func(a string) Options {
				return Options{Type: v1beta3.RocketProvider, Address: a + "/hooks/abc", Channel: "ops"}
			},
			check: func(t *testing.T, c captured) {
				expect(t, "path", c.path, "/hooks/abc")
				expect(t, "channel", jsonBody(t, c)["channel"], "ops")
			},
		},
		{
			name: "msteams workflows adaptive card",
			opts: func(a string) Options {
				return Options{Type: v1beta3.MSTeamsProvider, Address: a + "/workflows/zzz/triggers/manual/paths/invoke?sig=secret"}
			},
			check: func(t *testing.T, c captured) {
				expect(t, "query", c.query, "sig=secret")
				b := jsonBody(t, c)
				expect(t, "type", b["type"], "message")
				expect(t, "contentType", dig(t, b, "attachments", 0, "contentType"), "application/vnd.microsoft.card.adaptive")
				card := dig(t, b, "attachments", 0, "content")
				expect(t, "card type", dig(t, card, "type"), "AdaptiveCard")
				expect(t, "title", dig(t, card, "body", 0, "text"), "kustomization/webapp.apps")
				expect(t, "color", dig(t, card, "body", 0, "color"), "attention")
				expect(t, "fact", dig(t, card, "body", 2, "facts", 0, "title"), "revision")
			},
		},
		{
			name: "googlechat",
			opts: func(a string) Options {
				return Options{Type: v1beta3.GoogleChatProvider, Address: a + "/v1/spaces/AAA/messages?key=k&token=t"}
			},
			check: func(t *testing.T, c captured) {
				expect(t, "path", c.path, "/v1/spaces/AAA/messages")
				b := jsonBody(t, c)
				expect(t, "title", dig(t, b, "cards", 0, "header", "title"), "kustomization/webapp.apps")
				expect(t, "text", dig(t, b, "cards", 0, "sections", 0, "widgets", 0, "textParagraph", "text"), testEvent("error").Message)
				expect(t, "kv", dig(t, b, "cards", 0, "sections", 1, "widgets", 0, "keyValue", "topLabel"), "revision")
			},
		},
		{
			name: "webex",
			opts: func(a string) Options {
				return Options{Type: v1beta3.WebexProvider, Address: a + "/v1/messages", Channel: "room-1", Token: "bot-token"}
			},
			check: func(t *testing.T, c captured) {
				expect(t, "Authorization", c.header.Get("Authorization"), "Bearer bot-token")
				b := jsonBody(t, c)
				expect(t, "roomId", b["roomId"], "room-1")
				if !strings.Contains(b["markdown"].(string), "**kustomization/webapp.apps**") {
					t.Errorf("markdown = %q", b["markdown"])
				}
			},
		},
		{
			name: "telegram",
			opts: func(a string) Options {
				return Options{Type: v1beta3.TelegramProvider, Address: a, Channel: "@fluxcd", Token: "123:ABC"}
			},
			answer: `{"ok":true}`,
			check: func(t *testing.T, c captured) {
				expect(t, "path", c.path, "/bot123:ABC/sendMessage")
				b := jsonBody(t, c)
				expect(t, "chat_id", b["chat_id"], "@fluxcd")
				expect(t, "parse_mode", b["parse_mode"], "MarkdownV2")
				if !strings.HasPrefix(b["text"].(string), `*kustomization/webapp\.apps*`) {
					t.Errorf("text = %q", b["text"])
				}
			},
		},
		{
			name: "lark",
			opts: func(a string) Options {
				return Options{Type: v1beta3.LarkProvider, Address: a + "/open-apis/bot/v2/hook/xyz"}
			},
			answer: `{"code":0,"msg":"success"}`,
			check: func(t *testing.T, c captured) {
				b := jsonBody(t, c)
				expect(t, "msg_type", b["msg_type"], "interactive")
				expect(t, "template", dig(t, b, "card", "header", "template"), "red")
				expect(t, "title", dig(t, b, "card", "header", "title", "content"), "kustomization/webapp.apps")
				expect(t, "tag", dig(t, b, "card", "elements", 0, "text", "tag"), "lark_md")
			},
		},
		{
			name: "matrix",
			opts: func(a string) Options {
				return Options{Type: v1beta3.MatrixProvider, Address: a, Channel: "!room:example.org", Token: "syt_token"}
			},
			answer: `{"event_id":"$1"}`,
			check: func(t *testing.T, c captured) {
				expect(t, "method", c.method, http.MethodPut)
				if !strings.HasPrefix(c.path, "/_matrix/client/v3/rooms/!room:example.org/send/m.room.message/") {
					t.Errorf("path = %q", c.path)
				}
				expect(t, "Authorization", c.header.Get("Authorization"), "Bearer syt_token")
				b := jsonBody(t, c)
				expect(t, "msgtype", b["msgtype"], "m.text")
			},
		},
		{
			name: "opsgenie",
			opts: func(a string) Options {
				return Options{Type: v1beta3.OpsgenieProvider, Address: a + "/v2/alerts", Token: "genie"}
			},
			answer: `{"result":"Request will be processed"}`,
			check: func(t *testing.T, c captured) {
				expect(t, "Authorization", c.header.Get("Authorization"), "GenieKey genie")
				b := jsonBody(t, c)
				expect(t, "message", b["message"], "kustomization/webapp.apps")
				expect(t, "details.revision", dig(t, b, "details", "revision"), "main@sha1:"+testSHA)
			},
		},
		{
			name: "datadog",
			opts: func(a string) Options {
				return Options{Type: v1beta3.DataDogProvider, Address: a, Token: "dd-key"}
			},
			check: func(t *testing.T, c captured) {
				expect(t, "path", c.path, "/api/v1/events")
				expect(t, "DD-API-KEY", c.header.Get("DD-API-KEY"), "dd-key")
				b := jsonBody(t, c)
				expect(t, "alert_type", b["alert_type"], "error")
				expect(t, "first tag", dig(t, b, "tags", 0), "flux")
				expect(t, "kind tag", dig(t, b, "tags", 1), "involvedObjectKind:Kustomization")
			},
		},
		{
			name: "grafana token",
			opts: func(a string) Options {
				return Options{Type: v1beta3.GrafanaProvider, Address: a + "/api/annotations", Token: "glsa", Username: "u", Password: "p"}
			},
			check: func(t *testing.T, c captured) {
				expect(t, "Authorization", c.header.Get("Authorization"), "Bearer glsa")
				b := jsonBody(t, c)
				expect(t, "tag 0", dig(t, b, "tags", 0), "flux")
				expect(t, "tag 1", dig(t, b, "tags", 1), "kustomize-controller")
				expect(t, "tag 2", dig(t, b, "tags", 2), "revision: main@sha1:"+testSHA)
				expect(t, "time", b["time"], float64(1666941979000))
			},
		},
		{
			name: "grafana basic auth",
			opts: func(a string) Options {
				return Options{Type: v1beta3.GrafanaProvider, Address: a + "/api/annotations", Username: "admin", Password: "pw"}
			},
			check: func(t *testing.T, c captured) {
				if !c.basic || c.user != "admin" || c.pass != "pw" {
					t.Errorf("basic auth = %v %q %q", c.basic, c.user, c.pass)
				}
			},
		},
		{
			name: "alertmanager",
			opts: func(a string) Options {
				u, _ := url.Parse(a)
				u.User = url.UserPassword("am", "am-pass")
				return Options{Type: v1beta3.AlertManagerProvider, Address: u.String() + "/api/v2/alerts/"}
			},
			check: func(t *testing.T, c captured) {
				expect(t, "path", c.path, "/api/v2/alerts/")
				if !c.basic || c.user != "am" || c.pass != "am-pass" {
					t.Errorf("basic auth = %v %q %q", c.basic, c.user, c.pass)
				}
				var alerts []map[string]any
				if err := json.Unmarshal(c.body, &alerts); err != nil || len(alerts) != 1 {
					t.Fatalf("body %s: %v", c.body, err)
				}
				a := alerts[0]
				expect(t, "alertname", dig(t, a, "labels", "alertname"), "FluxKustomizationReconciliationFailed")
				expect(t, "label revision", dig(t, a, "labels", "revision"), "main@sha1:"+testSHA)
				expect(t, "summary annotation", dig(t, a, "annotations", "summary"), "prod cluster")
				expect(t, "summary not a label", dig(t, a, "labels", "summary"), nil)
				expect(t, "startsAt", a["startsAt"], "2022-10-28T07:26:19Z")
			},
		},
		{
			name: "zulip",
			opts: func(a string) Options {
				return Options{Type: v1beta3.ZulipProvider, Address: a, Channel: "flux/alerts", Username: "bot@example.com", Password: "api-key"}
			},
			check: func(t *testing.T, c captured) {
				expect(t, "path", c.path, "/api/v1/messages")
				if !c.basic || c.user != "bot@example.com" || c.pass != "api-key" {
					t.Errorf("basic auth = %v %q %q", c.basic, c.user, c.pass)
				}
				form, err := url.ParseQuery(string(c.body))
				if err != nil {
					t.Fatal(err)
				}
				expect(t, "type", form.Get("type"), "stream")
				expect(t, "to", form.Get("to"), "flux")
				expect(t, "topic", form.Get("topic"), "alerts")
			},
		},
		{
			name: "githubdispatch",
			opts: func(a string) Options {
				return Options{Type: v1beta3.GitHubDispatchProvider, Address: a + "/stefanprodan/podinfo", Token: "ghp_x"}
			},
			check: func(t *testing.T, c captured) {
				expect(t, "path", c.path, "/api/v3/repos/stefanprodan/podinfo/dispatches")
				expect(t, "Authorization", c.header.Get("Authorization"), "Bearer ghp_x")
				expect(t, "Accept", c.header.Get("Accept"), "application/vnd.github+json")
				b := jsonBody(t, c)
				expect(t, "event_type", b["event_type"], "Kustomization/webapp.apps")
				expect(t, "client_payload.metadata.summary", dig(t, b, "client_payload", "metadata", "summary"), "prod cluster")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer := tt.answer
			if answer == "" {
				answer = "{}"
			}
			srv := newFakeAPI(t, func(*http.Request) (int, string) { return http.StatusOK, answer })
			sev := tt.sev
			if sev == "" {
				sev = eventv1.EventSeverityError
			}
			post(t, mustNew(t, tt.opts(srv.URL)), testEvent(sev))
			tt.check(t, srv.only(t))
		})
	}
}

func TestMSTeamsLegacyConnector(t *testing.T) {
	if !isOffice365Connector("https://contoso.webhook.office.com/webhookb2/x") {
		t.Error("an Office 365 connector address was not recognised")
	}
	if isOffice365Connector("https://prod-01.westus.logic.azure.com/workflows/x") {
		t.Error("a Workflows address was taken for a legacy connector")
	}
	srv := newFakeAPI(t, nil)
	n := mustNew(t, Options{Type: v1beta3.MSTeamsProvider, Address: srv.URL})
	n.(*msteams).legacy = true // the host check is above; the server is on 127.0.0.1
	post(t, n, testEvent(eventv1.EventSeverityInfo))
	b := jsonBody(t, srv.only(t))
	expect(t, "@type", b["@type"], "MessageCard")
	expect(t, "themeColor", b["themeColor"], "0076D7")
	expect(t, "summary", b["summary"], "kustomization/webapp.apps")
	expect(t, "fact", dig(t, b, "sections", 0, "facts", 0, "name"), "revision")
}

func TestPagerDuty(t *testing.T) {
	srv := newFakeAPI(t, func(*http.Request) (int, string) { return http.StatusAccepted, `{"status":"success"}` })
	n := mustNew(t, Options{Type: v1beta3.PagerDutyProvider, Address: srv.URL, Channel: "routing-key"})

	post(t, n, testEvent(eventv1.EventSeverityError))
	trigger := srv.only(t)
	expect(t, "trigger path", trigger.path, "/v2/enqueue")
	b := jsonBody(t, trigger)
	expect(t, "routing_key", b["routing_key"], "routing-key")
	expect(t, "event_action", b["event_action"], "trigger")
	expect(t, "dedup_key", b["dedup_key"], "kustomization/webapp.apps")
	expect(t, "severity", dig(t, b, "payload", "severity"), "error")
	expect(t, "custom_details", dig(t, b, "payload", "custom_details", "summary"), "prod cluster")

	post(t, n, testEvent(eventv1.EventSeverityInfo))
	reqs := srv.all()
	if len(reqs) != 3 {
		t.Fatalf("an info event made %d requests, want resolve + change", len(reqs)-1)
	}
	expect(t, "resolve action", jsonBody(t, reqs[1])["event_action"], "resolve")
	expect(t, "change path", reqs[2].path, "/v2/change/enqueue")
	expect(t, "change summary", dig(t, jsonBody(t, reqs[2]), "payload", "summary"), "kustomization/webapp.apps: "+testEvent("info").Message)
}

func TestSlackRefusal(t *testing.T) {
	srv := newFakeAPI(t, func(*http.Request) (int, string) { return http.StatusOK, `{"ok":false,"error":"channel_not_found"}` })
	n := mustNew(t, Options{Type: v1beta3.SlackProvider, Address: srv.URL + "/api/chat.postMessage", Token: "xoxb-secret-token"})
	err := n.Post(t.Context(), testEvent(eventv1.EventSeverityInfo))
	if err == nil || !strings.Contains(err.Error(), "channel_not_found") {
		t.Fatalf("err = %v, want Slack's refusal", err)
	}
	if IsRetryable(err) {
		t.Error("a refused message must not be retried")
	}
}

func TestConfigurationErrors(t *testing.T) {
	tests := []Options{
		{Type: "carrier-pigeon"},
		{Type: v1beta3.SlackProvider},
		{Type: v1beta3.GenericProvider, Address: "ftp://example.com"},
		{Type: v1beta3.GenericHMACProvider, Address: "https://example.com"},
		{Type: v1beta3.TelegramProvider, Token: "x"},
		{Type: v1beta3.MatrixProvider, Address: "https://m.org", Channel: "!r"},
		{Type: v1beta3.PagerDutyProvider},
		{Type: v1beta3.NATSProvider, Address: "nats://127.0.0.1:4222"},
		{Type: v1beta3.GooglePubSubProvider, Address: "project"},
		{Type: v1beta3.AzureEventHubProvider, Address: "hub"},
		{Type: v1beta3.GitHubProvider, Address: "https://github.com/org/repo"},
		{Type: v1beta3.GitHubProvider, Address: "https://github.com/org", Token: "t"},
		{Type: v1beta3.BitbucketProvider, Address: "https://bitbucket.org/org/repo", Token: "no-colon"},
		{Type: v1beta3.BitbucketServerProvider, Address: "https://bb.example.com/scm/PROJ/repo.git"},
		{Type: v1beta3.AzureDevOpsProvider, Address: "https://dev.azure.com/org/project/repo", Token: "t"},
		{Type: v1beta3.GitLabProvider, Address: "https://gitlab.com/g/p", Token: "t", CommitStatusExpr: "event.involvedObject.name +"},
		{Type: v1beta3.GitLabProvider, Address: "https://gitlab.com/g/p", Token: "t", CommitStatusExpr: "1 + 2"},
		{Type: v1beta3.GenericProvider, Address: "https://example.com", CAData: []byte("not a PEM")},
	}
	for _, o := range tests {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded, want a configuration error", o)
		}
	}
}
