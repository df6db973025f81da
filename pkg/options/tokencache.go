package options

import (
	"time"

	"github.com/spf13/pflag"
)

// TokenCache bounds the cache of cloud and GitHub App tokens (gotk.dev/pkg/auth): upstream's
// --token-cache-max-size and --token-cache-max-duration.
type TokenCache struct {
	// MaxSize is the number of tokens kept; 0 disables the cache.
	MaxSize int
	// MaxDuration is the longest a token is kept, whatever its expiry.
	MaxDuration time.Duration
}

// BindFlags registers the token cache flags with upstream's names and defaults.
func (o *TokenCache) BindFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.MaxSize, "token-cache-max-size", 100, "The maximum number of tokens to keep in the cache (0 disables it).")
	fs.DurationVar(&o.MaxDuration, "token-cache-max-duration", time.Hour, "The maximum duration a token is kept in the cache, whatever its expiry.")
}
