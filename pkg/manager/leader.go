package manager

import (
	"crypto/sha256"
	"encoding/hex"
)

// LeaderElectionID is the name of a controller's leader election lease. Shard instances of
// one controller (--watch-label-selector) run side by side in one namespace and must each
// lead their own shard, so a selector gives the lease a suffix of its own: a short hash,
// since selectors hold characters a lease name may not ("!", "=", ",").
func LeaderElectionID(controller, watchLabelSelector string) string {
	id := controller + "-leader-election"
	if watchLabelSelector == "" {
		return id
	}
	sum := sha256.Sum256([]byte(watchLabelSelector))
	return id + "-" + hex.EncodeToString(sum[:])[:8]
}
