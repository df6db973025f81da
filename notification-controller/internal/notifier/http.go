package notifier

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
	"time"
)

// maxResponseBody bounds how much of an answer is read (and quoted in errors).
const (
	maxResponseBody = 1 << 20
	maxQuotedBody   = 256
)

// newTLSConfig builds the TLS configuration of a custom CA and/or client certificate; nil
// when neither is set.
func newTLSConfig(o *Options) (*tls.Config, error) {
	if len(o.CAData) == 0 && len(o.CertData) == 0 {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(o.CAData) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(o.CAData) {
			return nil, permanent("the CA certificate (ca.crt) holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	if len(o.CertData) > 0 {
		pair, err := tls.X509KeyPair(o.CertData, o.KeyData)
		if err != nil {
			return nil, permanent("the client certificate (tls.crt, tls.key) is invalid: %v", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// newHTTPClient builds a client with the Provider's proxy, TLS settings and timeout.
func newHTTPClient(o *Options) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // never the process environment: only the Provider decides
	if o.ProxyURL != "" {
		u, err := url.Parse(o.ProxyURL)
		if err != nil {
			return nil, permanent("the proxy is not a URL")
		}
		tr.Proxy = http.ProxyURL(u)
	}
	tlsCfg, err := newTLSConfig(o)
	if err != nil {
		return nil, err
	}
	if tlsCfg != nil {
		tr.TLSClientConfig = tlsCfg
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// httpSender is embedded by every HTTP notifier: one client, the redactor and the Options'
// extra headers.
type httpSender struct {
	client  *http.Client
	red     *redactor
	headers map[string]string
}

func newHTTPSender(o *Options) (*httpSender, error) {
	c, err := newHTTPClient(o)
	if err != nil {
		return nil, err
	}
	return &httpSender{client: c, red: newRedactor(o), headers: o.Headers}, nil
}

// request is one HTTP call; body is JSON-encoded unless it is already []byte.
type request struct {
	method      string
	url         string
	body        any
	contentType string
	header      http.Header
	basicUser   string
	basicPass   string
	basicAuth   bool
}

// do sends req and returns the answer's body when the status is 2xx. Any failure is a
// DeliveryError naming only the endpoint's scheme and host.
func (s *httpSender) do(ctx context.Context, req request) ([]byte, error) {
	var payload []byte
	switch b := req.body.(type) {
	case nil:
	case []byte:
		payload = b
	default:
		var err error
		if payload, err = json.Marshal(b); err != nil {
			return nil, permanent("encoding the payload: %v", err)
		}
	}
	method := req.method
	if method == "" {
		method = http.MethodPost
	}
	endpoint := redactURL(req.url)
	hr, err := http.NewRequestWithContext(ctx, method, req.url, bytes.NewReader(payload))
	if err != nil {
		return nil, permanent("invalid address %s", endpoint)
	}
	if payload != nil {
		ct := req.contentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	for k, v := range s.headers {
		hr.Header.Set(k, v)
	}
	for k, vs := range req.header {
		hr.Header[k] = vs
	}
	if req.basicAuth {
		hr.SetBasicAuth(req.basicUser, req.basicPass)
	}
	resp, err := s.client.Do(hr)
	if err != nil {
		// url.Error repeats the whole URL: keep its cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, s.red.wrap(&DeliveryError{Retryable: ctx.Err() == nil,
			msg: fmt.Sprintf("%s %s: %v", method, endpoint, err)})
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		quoted := bytes.TrimSpace(body)
		if len(quoted) > maxQuotedBody {
			quoted = append(quoted[:maxQuotedBody:maxQuotedBody], "..."...)
		}
		return nil, s.red.wrap(&DeliveryError{
			StatusCode: resp.StatusCode,
			Retryable:  resp.StatusCode >= 500,
			msg:        fmt.Sprintf("%s %s: %s: %s", method, endpoint, resp.Status, quoted),
		})
	}
	return body, nil
}

// postJSON sends body as JSON with a POST to u.
func (s *httpSender) postJSON(ctx context.Context, u string, body any, header http.Header) error {
	_, err := s.do(ctx, request{url: u, body: body, header: header})
	return err
}
