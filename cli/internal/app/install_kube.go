package app

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/version"

	"gotk.dev/cli/pkg/kube"
)

// connectTimeout bounds the first request to the cluster, so an address that swallows
// packets fails as fast as one that refuses them.
const connectTimeout = kube.ConnectTimeout

// pollInterval is how often waits re-read the cluster.
const pollInterval = kube.PollInterval

// fieldManager owns the fields flux applies.
const fieldManager = kube.FieldManager

// connect builds the clients and asks the API server for its version: an unreachable or
// misconfigured cluster fails here, with its address, instead of deep inside a command.
func (c *Command) connect(ctx context.Context) (*Kube, *version.Info, error) {
	k, err := c.Global.Kube()
	if err != nil {
		return nil, nil, err
	}
	info, err := k.ServerVersion(ctx, min(connectTimeout, c.Global.Timeout))
	if err != nil {
		return nil, nil, err
	}
	return k, info, nil
}

func waitTimeout(deadline time.Time) time.Duration { return time.Until(deadline) }
