package provider

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// UserAgent is sent with every request; the flux CLI sets it to "flux/<version>".
var UserAgent = "flux"

// api is a JSON REST client shared by the hosts: base URL, authentication, and the host's
// way of saying what went wrong.
type api struct {
	name  string
	base  string // ends in "/"
	token string
	http  *http.Client
	// auth sets the request's credentials.
	auth func(*http.Request)
	// message extracts the host's error message from an error body ("" when it has none).
	message func(body []byte) string
}

// newHTTPClient trusts caCert in addition to the system roots.
func newHTTPClient(caCert []byte) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if len(caCert) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caCert) {
			return nil, errors.New("--ca-file holds no PEM certificate")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

// baseURL turns --hostname (host[:port], or a URL with a scheme and no path) into a base
// URL ending in "/" with apiPath appended.
func baseURL(flag, hostname, apiPath string) (string, error) {
	raw := hostname
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || strings.Trim(u.Path, "/") != "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(u.Host, " /") {
		return "", fmt.Errorf("invalid %s %q: want a host name, optionally with a port", flag, hostname)
	}
	return u.Scheme + "://" + u.Host + "/" + strings.Trim(apiPath, "/") + "/", nil
}

// do sends in (JSON, when not nil) and decodes the answer into out (when not nil).
func (a *api) do(ctx context.Context, method, p string, in, out any) error {
	_, err := a.doHeader(ctx, method, p, in, out)
	return err
}

// doHeader is do that also returns the answer's headers (for paging).
func (a *api) doHeader(ctx context.Context, method, p string, in, out any) (http.Header, error) {
	u := p
	if !strings.Contains(p, "://") {
		u = a.base + strings.TrimPrefix(p, "/")
	}
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	a.auth(req)
	resp, err := a.http.Do(req)
	if err != nil {
		// net/http errors name the URL, which carries no credentials here.
		return nil, &UnreachableError{Name: a.name, Base: a.base, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	if resp.StatusCode/100 != 2 {
		msg := a.message(data)
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		if a.token != "" {
			msg = strings.ReplaceAll(msg, a.token, "<redacted>")
		}
		return nil, &Error{Method: method, URL: u, Status: resp.StatusCode, Message: msg}
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return resp.Header, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("%s %s: unexpected answer: %w", method, u, err)
	}
	return resp.Header, nil
}

// jsonMessage reads the error bodies of GitHub, GitLab and Gitea ({"message": ...}, with
// GitLab's field maps and OAuth errors) and Bitbucket Server ({"errors": [{"message": ...}]};
// Gitea lists plain strings there).
func jsonMessage(body []byte) string {
	var doc struct {
		Message     json.RawMessage   `json:"message"`
		Error       string            `json:"error"`
		Description string            `json:"error_description"`
		Errors      []json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	var parts []string
	if len(doc.Message) > 0 {
		var msg string
		// GitLab answers validation failures with a map of field -> messages.
		if json.Unmarshal(doc.Message, &msg) != nil {
			msg = string(doc.Message)
		}
		parts = append(parts, msg)
	}
	if e := strings.TrimSpace(doc.Error + " " + doc.Description); e != "" {
		parts = append(parts, e)
	}
	for _, raw := range doc.Errors {
		var s string
		var e struct {
			Message string `json:"message"`
		}
		switch {
		case json.Unmarshal(raw, &s) == nil && s != "":
			parts = append(parts, s)
		case json.Unmarshal(raw, &e) == nil && e.Message != "":
			parts = append(parts, e.Message)
		}
	}
	return strings.Join(parts, ": ")
}

// escape is one path segment.
func escape(s string) string { return url.PathEscape(s) }
