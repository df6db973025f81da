// Package oomwatch stops the controller gracefully before the kernel's OOM killer does: a
// helm-controller killed in the middle of a Helm action leaves its release pending, while a
// graceful stop lets running actions record their outcome (--feature-gates=OOMWatch=true).
package oomwatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// Default cgroup v2 files of the container's memory limit and usage.
const (
	DefaultMaxPath     = "/sys/fs/cgroup/memory.max"
	DefaultCurrentPath = "/sys/fs/cgroup/memory.current"
)

// Options configure the watch.
type Options struct {
	// Interval between two reads of the memory usage.
	Interval time.Duration
	// Threshold is the percentage of the limit at which the controller stops.
	Threshold uint8
	// MaxPath and CurrentPath are the cgroup files ("" means the cgroup v2 defaults).
	MaxPath, CurrentPath string
	Log                  logr.Logger
}

// Context returns a context that ends with parent or when the memory usage reaches the
// threshold. It fails when the limit cannot be read or there is none: without a limit
// there is nothing to watch, and the flag asked for a watch.
func Context(parent context.Context, o Options) (context.Context, error) {
	if o.MaxPath == "" {
		o.MaxPath = DefaultMaxPath
	}
	if o.CurrentPath == "" {
		o.CurrentPath = DefaultCurrentPath
	}
	limit, err := readBytes(o.MaxPath)
	if err != nil {
		return nil, fmt.Errorf("OOM watch: memory limit: %w", err)
	}
	if _, err := readBytes(o.CurrentPath); err != nil {
		return nil, fmt.Errorf("OOM watch: memory usage: %w", err)
	}
	ctx, cancel := context.WithCancel(parent)
	go func() {
		defer cancel()
		tick := time.NewTicker(o.Interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			used, err := readBytes(o.CurrentPath)
			if err != nil {
				continue
			}
			if used*100 >= limit*uint64(o.Threshold) {
				o.Log.Info("memory usage reached the threshold: stopping gracefully", "usage", used, "limit", limit, "threshold", o.Threshold)
				return
			}
		}
	}()
	return ctx, nil
}

// readBytes reads a cgroup memory file: a byte count, or "max" (no limit, an error here).
func readBytes(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return 0, errors.New(path + " says there is no memory limit")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}
