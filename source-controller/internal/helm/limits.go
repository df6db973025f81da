package helm

import "fmt"

// Defaults of the size limits, as upstream source-controller documents them.
const (
	// DefaultMaxIndexSize bounds a repository index.yaml (--helm-index-max-size).
	DefaultMaxIndexSize int64 = 50 << 20
	// DefaultMaxChartSize bounds a chart archive as downloaded (--helm-chart-max-size).
	DefaultMaxChartSize int64 = 10 << 20
	// DefaultMaxChartFileSize bounds one file inside a chart (--helm-chart-file-max-size).
	DefaultMaxChartFileSize int64 = 5 << 20
	// DefaultMaxDecompressedChartSize bounds the sum of all files of a chart once unpacked, so a
	// small archive cannot expand into gigabytes. Helm uses the same default; it has no flag.
	DefaultMaxDecompressedChartSize int64 = 100 << 20
)

// Flag names of the limits (bound in cmd/, named in errors so users know what to raise).
const (
	FlagMaxIndexSize     = "helm-index-max-size"
	FlagMaxChartSize     = "helm-chart-max-size"
	FlagMaxChartFileSize = "helm-chart-file-max-size"
)

// Limits bound what untrusted Helm data may cost. Zero fields take the defaults above.
type Limits struct {
	MaxIndexSize             int64
	MaxChartSize             int64
	MaxChartFileSize         int64
	MaxDecompressedChartSize int64
}

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	if l.MaxIndexSize <= 0 {
		l.MaxIndexSize = DefaultMaxIndexSize
	}
	if l.MaxChartSize <= 0 {
		l.MaxChartSize = DefaultMaxChartSize
	}
	if l.MaxChartFileSize <= 0 {
		l.MaxChartFileSize = DefaultMaxChartFileSize
	}
	if l.MaxDecompressedChartSize <= 0 {
		l.MaxDecompressedChartSize = DefaultMaxDecompressedChartSize
	}
	return l
}

// LimitError reports data larger than a configured limit. It names what was too large and,
// when a flag controls the limit, the flag.
type LimitError struct {
	// What is the oversize thing, e.g. "index https://example.com/index.yaml" or
	// "chart file 'podinfo/templates/big.yaml'".
	What string
	// Limit is the limit in bytes.
	Limit int64
	// Flag is the controller flag that sets Limit; empty when there is none.
	Flag string
}

func (e *LimitError) Error() string {
	if e.Flag == "" {
		return fmt.Sprintf("%s exceeds the maximum size of %d bytes", e.What, e.Limit)
	}
	return fmt.Sprintf("%s exceeds the maximum size of %d bytes (--%s)", e.What, e.Limit, e.Flag)
}
