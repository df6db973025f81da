package helm

import "github.com/spf13/pflag"

// BindFlags registers the limits under upstream source-controller's flag names, with the
// defaults as flag defaults.
func (l *Limits) BindFlags(fs *pflag.FlagSet) {
	fs.Int64Var(&l.MaxIndexSize, FlagMaxIndexSize, DefaultMaxIndexSize,
		"The max allowed size in bytes of a Helm repository index file.")
	fs.Int64Var(&l.MaxChartSize, FlagMaxChartSize, DefaultMaxChartSize,
		"The max allowed size in bytes of a Helm chart file.")
	fs.Int64Var(&l.MaxChartFileSize, FlagMaxChartFileSize, DefaultMaxChartFileSize,
		"The max allowed size in bytes of a file in a Helm chart.")
}
