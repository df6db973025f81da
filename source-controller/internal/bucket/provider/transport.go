package provider

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Transport returns a new HTTP transport carrying the TLS and proxy settings: tlsConfig (nil
// for system roots) and proxy (nil for the environment's HTTPS_PROXY/NO_PROXY). Each Bucket
// gets its own transport so one object's certificates or proxy never leak into another's.
func Transport(tlsConfig *tls.Config, proxy *url.URL) *http.Transport {
	t := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Objects are stored as they are served: no transparent gzip decoding.
		DisableCompression: true,
	}
	if proxy != nil {
		t.Proxy = http.ProxyURL(proxy)
	}
	if tlsConfig != nil {
		t.TLSClientConfig = tlsConfig.Clone()
	} else {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return t
}

// Transport returns the HTTP transport for the service endpoint.
func (o *Options) Transport() *http.Transport { return Transport(o.TLS, o.Proxy) }

// HTTPClient returns a client over o.Transport() whose requests are bounded by o.Timeout
// (response headers only: a large download may take longer and is bounded by its context).
func (o *Options) HTTPClient() *http.Client {
	t := o.Transport()
	if o.Timeout > 0 {
		t.ResponseHeaderTimeout = o.Timeout
	}
	return &http.Client{Transport: t}
}
