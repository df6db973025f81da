package ocirepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"helm.sh/helm/v3/pkg/chart"
	helmreg "helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"

	"gotk.dev/pkg/oci"
	sourcev1 "gotk.dev/source-controller/api/v1"

	"gotk.dev/source-controller/internal/helm"
	"gotk.dev/source-controller/internal/helm/repository"
)

// Media types of Helm charts in OCI registries, as helm writes them.
const (
	ConfigMediaType           = helmreg.ConfigMediaType
	ChartLayerMediaType       = helmreg.ChartLayerMediaType
	LegacyChartLayerMediaType = helmreg.LegacyChartLayerMediaType
)

// Client resolves and pulls the charts of one OCI Helm repository. It is safe for concurrent
// use; Close releases idle connections.
type Client struct {
	opts      Options
	base      string // "<host>[:port]/<path>"
	nameOpts  []name.Option
	transport *http.Transport
	remote    []remote.Option
}

// NewClient validates opts and builds a Client.
func NewClient(opts Options) (*Client, error) {
	base, err := oci.ParseURL(opts.URL)
	if err != nil {
		return nil, &repository.URLError{URL: opts.URL, Reason: err.Error()}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	opts.Limits = opts.Limits.WithDefaults()
	tr := opts.Transport()
	var rt http.RoundTripper = tr
	if !opts.Insecure {
		// go-containerregistry falls back to plain HTTP for loopback and private-network
		// registries; spec.insecure false means never (as helm's client does).
		rt = oci.HTTPSOnly(tr)
	}
	ropts := []remote.Option{remote.WithTransport(rt)}
	switch {
	case opts.Username != "":
		ropts = append(ropts, remote.WithAuth(&authn.Basic{Username: opts.Username, Password: opts.Password}))
	case opts.Keychain != nil:
		ropts = append(ropts, remote.WithAuthFromKeychain(opts.Keychain))
	}
	if opts.UserAgent != "" {
		ropts = append(ropts, remote.WithUserAgent(opts.UserAgent))
	}
	c := &Client{opts: opts, base: base, transport: tr, remote: ropts}
	if opts.Insecure {
		c.nameOpts = append(c.nameOpts, name.Insecure)
	}
	return c, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

func (c *Client) opt(ctx context.Context) []remote.Option {
	return append([]remote.Option{remote.WithContext(ctx)}, c.remote...)
}

// GetChartVersion resolves chart name at version: an exact SemVer version is looked up
// directly, anything else ("" and "*" mean the latest stable) is matched against the
// repository's SemVer tags, highest first, after an exact tag match. The returned entry's URL
// is oci://<repository>/<name>:<tag> and its Digest the manifest digest, which DownloadChart
// pulls (so a tag moving in between does not change what is built).
func (c *Client) GetChartVersion(ctx context.Context, chartName, version string) (*repo.ChartVersion, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	rep, err := name.NewRepository(c.base+"/"+chartName, c.nameOpts...)
	if err != nil {
		return nil, &repository.ChartNotFoundError{Chart: chartName, Version: version, Reason: fmt.Sprintf(": invalid chart name: %v", err)}
	}
	resolved := version
	if _, err := semver.StrictNewVersion(version); err != nil {
		if resolved, err = c.matchTag(ctx, rep, chartName, version); err != nil {
			return nil, err
		}
	}
	tag := rep.Tag(strings.ReplaceAll(resolved, "+", "_"))
	desc, err := remote.Head(tag, c.opt(ctx)...)
	if err != nil {
		if oci.IsNotFound(err) {
			return nil, &repository.ChartNotFoundError{Chart: chartName, Version: version, Reason: " in " + sourcev1.OCIRepositoryPrefix + rep.String()}
		}
		return nil, fmt.Errorf("resolve %s: %w", sourcev1.OCIRepositoryPrefix+tag.String(), explain(err))
	}
	return &repo.ChartVersion{
		Metadata: &chart.Metadata{Name: chartName, Version: resolved},
		URLs:     []string{sourcev1.OCIRepositoryPrefix + tag.String()},
		Digest:   desc.Digest.String(),
	}, nil
}

// matchTag lists the repository's tags and picks the one matching version.
func (c *Client) matchTag(ctx context.Context, rep name.Repository, chartName, version string) (string, error) {
	tags, err := remote.List(rep, c.opt(ctx)...)
	if err != nil {
		if oci.IsNotFound(err) {
			return "", &repository.ChartNotFoundError{Chart: chartName, Reason: " in " + sourcev1.OCIRepositoryPrefix + rep.String()}
		}
		return "", fmt.Errorf("list tags of %s: %w", sourcev1.OCIRepositoryPrefix+rep.String(), explain(err))
	}
	var versions []*semver.Version
	for _, t := range tags {
		// Helm writes "+" as "_" in tags; only strict SemVer tags are chart versions.
		v, err := semver.StrictNewVersion(strings.ReplaceAll(t, "_", "+"))
		if err != nil {
			continue
		}
		if v.Original() == version {
			return v.Original(), nil
		}
		versions = append(versions, v)
	}
	rng := version
	if rng == "" {
		rng = "*"
	}
	constraint, err := semver.NewConstraint(rng)
	if err != nil {
		return "", &repository.ChartNotFoundError{Chart: chartName, Version: version, Reason: fmt.Sprintf(": invalid semver range: %v", err)}
	}
	sort.Sort(sort.Reverse(semver.Collection(versions)))
	for _, v := range versions {
		if constraint.Check(v) {
			return v.Original(), nil
		}
	}
	reason := fmt.Sprintf(" among %d tags of %s", len(tags), sourcev1.OCIRepositoryPrefix+rep.String())
	return "", &repository.ChartNotFoundError{Chart: chartName, Version: rng, Reason: reason}
}

// DownloadChart pulls the chart layer of the manifest cv points at (by digest when cv has
// one), refusing manifests that are not Helm charts and layers over Limits.MaxChartSize.
func (c *Client) DownloadChart(ctx context.Context, cv *repo.ChartVersion) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if cv == nil || len(cv.URLs) == 0 {
		return nil, errors.New("no chart URL to pull")
	}
	ref, err := name.ParseReference(strings.TrimPrefix(cv.URLs[0], sourcev1.OCIRepositoryPrefix), c.nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("invalid chart reference '%s': %w", cv.URLs[0], err)
	}
	if cv.Digest != "" {
		ref = ref.Context().Digest(cv.Digest)
	}
	where := sourcev1.OCIRepositoryPrefix + ref.String()
	desc, err := remote.Get(ref, c.opt(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("fetch manifest %s: %w", where, explain(err))
	}
	if !desc.MediaType.IsImage() {
		return nil, fmt.Errorf("%s is not a Helm chart: manifest media type %s", where, desc.MediaType)
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w", where, err)
	}
	if string(m.Config.MediaType) != ConfigMediaType {
		return nil, fmt.Errorf("%s is not a Helm chart: config media type %q, want %q", where, m.Config.MediaType, ConfigMediaType)
	}
	var layer *v1.Descriptor
	for i, l := range m.Layers {
		if t := string(l.MediaType); t == ChartLayerMediaType || t == LegacyChartLayerMediaType {
			layer = &m.Layers[i]
			break
		}
	}
	if layer == nil {
		return nil, fmt.Errorf("%s has no layer of media type %s", where, ChartLayerMediaType)
	}
	what := fmt.Sprintf("chart '%s' version '%s'", cv.Name, cv.Version)
	limit := c.opts.Limits.MaxChartSize
	if layer.Size > limit {
		return nil, &helm.LimitError{What: what, Limit: limit, Flag: helm.FlagMaxChartSize}
	}
	l, err := remote.Layer(ref.Context().Digest(layer.Digest.String()), c.opt(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("fetch chart layer of %s: %w", where, explain(err))
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("fetch chart layer of %s: %w", where, explain(err))
	}
	defer rc.Close()
	var buf bytes.Buffer
	// go-containerregistry verifies the layer digest when the stream reaches EOF, so read to
	// the end even though the size is known.
	n, err := io.Copy(&buf, io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read chart layer of %s: %w", where, explain(err))
	}
	if n > limit {
		return nil, &helm.LimitError{What: what, Limit: limit, Flag: helm.FlagMaxChartSize}
	}
	return buf.Bytes(), nil
}

// explain adds what to check to authentication failures (a 401 to a HEAD has no body).
func explain(err error) error {
	var te *transport.Error
	if !errors.As(err, &te) {
		return err
	}
	switch te.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w (authentication failed: credentials missing or rejected)", err)
	case http.StatusForbidden:
		return fmt.Errorf("%w (access denied: the credentials lack permission for this repository)", err)
	}
	return err
}

// IsAuthError reports whether err is a 401 or 403 from the registry.
func IsAuthError(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden)
}

// SignatureTarget is the repository and manifest digest of a chart version this client
// resolved, with the registry options to read its signatures with the same credentials.
func (c *Client) SignatureTarget(cv *repo.ChartVersion) (name.Repository, string, []remote.Option, error) {
	if len(cv.URLs) == 0 || cv.Digest == "" {
		return name.Repository{}, "", nil, fmt.Errorf("chart %s has no resolved digest", cv.Name)
	}
	ref, err := name.ParseReference(strings.TrimPrefix(cv.URLs[0], sourcev1.OCIRepositoryPrefix), c.nameOpts...)
	if err != nil {
		return name.Repository{}, "", nil, err
	}
	return ref.Context(), cv.Digest, append([]remote.Option(nil), c.remote...), nil
}
