package indexcache

import "github.com/spf13/pflag"

// BindFlags registers the cache options under upstream source-controller's flag names.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.MaxEntries, "helm-cache-max-size", 0,
		"The maximum size of the cache in number of indexes.")
	fs.DurationVar(&o.TTL, "helm-cache-ttl", DefaultTTL,
		"The TTL of an index in the cache. Valid time units are ns, us (or µs), ms, s, m, h.")
	fs.DurationVar(&o.PurgeInterval, "helm-cache-purge-interval", DefaultPurgeInterval,
		"The interval at which the cache is purged. Valid time units are ns, us (or µs), ms, s, m, h.")
}
