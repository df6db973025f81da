package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	apiv1 "gotk.dev/notification-controller/api/v1"
)

// triggerFlags are flux trigger receiver's flags.
type triggerFlags struct {
	token, url, receiverType, payload string
	retries                           int
	retryDelay                        time.Duration
}

func newTriggerCommand(c *Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trigger",
		Short: "Trigger webhooks",
		Long:  "The trigger sub-commands send requests to Flux webhooks.",
	}
	cmd.AddCommand(newTriggerReceiverCommand(c))
	cmd.Args, cmd.RunE = cobra.ArbitraryArgs, unknownWordRunE("")
	return cmd
}

func newTriggerReceiverCommand(c *Command) *cobra.Command {
	f := &triggerFlags{}
	cmd := &cobra.Command{
		Use:   "receiver [name]",
		Short: "Trigger the webhook of a Receiver",
		Long: `The trigger receiver command sends a request to the incoming webhook of a Receiver.

The command computes the webhook path from the Receiver name, namespace and token,
appends it to the base URL and sends an HTTP POST request with the given payload,
signed as the Receiver's type expects. It does not require access to the Kubernetes cluster.`,
		Example: `  # Trigger a generic Receiver
  flux trigger receiver my-receiver \
    --token=my-token \
    --url=https://flux-webhook.example.com

  # Trigger a generic-hmac Receiver with a custom JSON payload
  flux trigger receiver my-receiver \
    --type=generic-hmac \
    --token=my-token \
    --url=https://flux-webhook.example.com \
    --payload='{"image":"ghcr.io/org/app:v1.0.0"}'`,
		Args: exactName(Kind{Kind: apiv1.ReceiverKind}),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.triggerReceiver(cmd.Context(), f, args[0])
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.token, "token", "", "the Receiver token, required")
	fs.StringVar(&f.url, "url", "", "the base URL of the notification-controller webhook receiver, may contain a base path")
	fs.StringVar(&f.receiverType, "type", apiv1.GenericReceiver, fmt.Sprintf("the Receiver type, one of: %s, %s", apiv1.GenericReceiver, apiv1.GenericHMACReceiver))
	fs.StringVar(&f.payload, "payload", "{}", "the JSON payload to send in the request body")
	fs.IntVar(&f.retries, "retries", 10, "the number of times to retry on connection errors or retryable HTTP status codes (404, 408, 429, 5xx); set to 0 to disable")
	fs.DurationVar(&f.retryDelay, "retry-delay", 10*time.Second, "the delay between retries")
	return cmd
}

// triggerReceiver posts the payload to the Receiver's webhook, retrying transient failures
// (the path is unknown until the Receiver is reconciled, so 404 is one).
func (c *Command) triggerReceiver(ctx context.Context, f *triggerFlags, name string) error {
	switch {
	case f.url == "":
		return errors.New("--url is required")
	case f.token == "":
		return fmt.Errorf("--token is required for --type=%s", f.receiverType)
	case f.receiverType == apiv1.GenericOIDCReceiver:
		return fmt.Errorf("--type=%s is not supported: this flux and its notification-controller have no OIDC Receivers", f.receiverType)
	case f.receiverType != apiv1.GenericReceiver && f.receiverType != apiv1.GenericHMACReceiver:
		return fmt.Errorf("invalid --type %q, must be one of: %s, %s", f.receiverType, apiv1.GenericReceiver, apiv1.GenericHMACReceiver)
	case !json.Valid([]byte(f.payload)):
		return errors.New("--payload is not valid JSON")
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	ns := c.Global.Namespace
	rcv := apiv1.Receiver{}
	rcv.Name, rcv.Namespace = name, ns
	url := strings.TrimRight(f.url, "/") + rcv.GetWebhookPath(f.token)
	body := []byte(f.payload)
	header := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"flux/v" + Version}}
	if f.receiverType == apiv1.GenericHMACReceiver {
		mac := hmac.New(sha256.New, []byte(f.token))
		mac.Write(body)
		header.Set("X-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	log := c.Log()
	log.Actionf("triggering Receiver %s/%s", ns, name)
	for attempt := 0; ; attempt++ {
		retryable, err := postWebhook(ctx, url, header, body)
		if err == nil {
			log.Successf("Receiver %s/%s triggered", ns, name)
			return nil
		}
		if !retryable || attempt >= f.retries {
			return err
		}
		log.Waitingf("%s; retrying in %s (%d/%d)", err, f.retryDelay, attempt+1, f.retries)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(f.retryDelay):
		}
	}
}

// postWebhook makes one attempt. Errors name the webhook's host, not its path: the path is
// derived from the token and is as good as a credential for generic Receivers.
func postWebhook(ctx context.Context, url string, header http.Header, body []byte) (retryable bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("invalid --url: %w", errors.Unwrap(err))
	}
	req.Header = header.Clone()
	where := req.URL.Scheme + "://" + req.URL.Host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return true, fmt.Errorf("request to %s failed: %w", where, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	err = fmt.Errorf("request to %s failed with status %s", where, resp.Status)
	if m := strings.TrimSpace(string(msg)); m != "" {
		err = fmt.Errorf("%w: %s", err, m)
	}
	switch resp.StatusCode {
	case http.StatusNotFound, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true, err
	}
	return resp.StatusCode >= 500, err
}
