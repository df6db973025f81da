package options

import (
	"time"

	"github.com/spf13/pflag"
)

// Storage is source-controller's artifact storage option set.
type Storage struct {
	Path             string
	Addr             string
	AdvAddr          string
	RetentionTTL     time.Duration
	RetentionRecords int
	DigestAlgorithm  string
}

// BindFlags registers the storage flags with upstream names and defaults.
func (o *Storage) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Path, "storage-path", envOr("STORAGE_PATH", "/data"), "The local storage path.")
	fs.StringVar(&o.Addr, "storage-addr", envOr("STORAGE_ADDR", ":9090"), "The address the static file server binds to.")
	fs.StringVar(&o.AdvAddr, "storage-adv-addr", envOr("STORAGE_ADV_ADDR", ""), "The advertised address of the static file server (defaults to <hostname><storage-addr port>).")
	fs.DurationVar(&o.RetentionTTL, "artifact-retention-ttl", 60*time.Second, "The duration of time that artifacts from previous reconciliations will be kept in storage before being garbage collected.")
	fs.IntVar(&o.RetentionRecords, "artifact-retention-records", 2, "The maximum number of artifacts to be kept in storage after a garbage collection.")
	fs.StringVar(&o.DigestAlgorithm, "artifact-digest-algo", "sha256", "The algorithm to use to calculate the digest of an artifact (sha256, sha384, sha512).")
}

// HTTPFetch is the consumer side: how kustomize-, helm- and image-automation-controller
// download artifacts.
type HTTPFetch struct {
	Retries int
	// MaxArtifactSize bounds an artifact's download and its extracted content.
	MaxArtifactSize int64
}

// BindFlags registers --http-retry and --artifact-max-size.
func (o *HTTPFetch) BindFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.Retries, "http-retry", 9, "The maximum number of retries when failing to fetch artifacts over HTTP.")
	fs.Int64Var(&o.MaxArtifactSize, "artifact-max-size", 100<<20, "The maximum size in bytes of an artifact, downloaded and extracted (0 means no limit).")
}
