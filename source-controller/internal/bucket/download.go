package bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// Defaults of DownloadOptions.
const (
	DefaultConcurrency   = 20
	DefaultMaxObjectSize = 512 << 20 // 512 MiB
	DefaultMaxTotalSize  = 2 << 30   // 2 GiB
)

// DownloadOptions bound a Download. Zero values take the defaults; a negative size disables
// that limit.
type DownloadOptions struct {
	// Concurrency is how many objects are fetched at once.
	Concurrency int
	// MaxObjectSize caps one object, as listed and as actually received.
	MaxObjectSize int64
	// MaxTotalSize caps all objects together.
	MaxTotalSize int64
}

func (o DownloadOptions) withDefaults() DownloadOptions {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MaxObjectSize == 0 {
		o.MaxObjectSize = DefaultMaxObjectSize
	}
	if o.MaxTotalSize == 0 {
		o.MaxTotalSize = DefaultMaxTotalSize
	}
	return o
}

// ErrSizeLimit is wrapped by Download errors for objects over a size limit.
var ErrSizeLimit = errors.New("size limit exceeded")

// Download fetches every object of idx into dir (which must exist), each at the path of its
// key, concurrently. Files are created through an os.Root on dir, so neither a key nor a
// symlink already in dir can make a write land outside it; keys are also validated again.
// The first failure cancels the rest and is returned naming the key. dir is left partially
// filled on error: callers download into a fresh temporary directory.
func (c *Client) Download(ctx context.Context, idx *Index, dir string, opts DownloadOptions) error {
	opts = opts.withDefaults()
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()

	objects := idx.Objects()
	var listed int64
	for _, o := range objects {
		if err := ValidateKey(o.Key); err != nil {
			return c.fail("downloading", err)
		}
		if opts.MaxObjectSize > 0 && o.Size > opts.MaxObjectSize {
			return c.fail("downloading", fmt.Errorf("object '%s' is %d bytes: %w (%d bytes per object)", o.Key, o.Size, ErrSizeLimit, opts.MaxObjectSize))
		}
		listed += o.Size
	}
	if opts.MaxTotalSize > 0 && listed > opts.MaxTotalSize {
		return c.fail("downloading", fmt.Errorf("the %d selected objects total %d bytes: %w (%d bytes in all)", len(objects), listed, ErrSizeLimit, opts.MaxTotalSize))
	}

	root, err := os.OpenRoot(dir)
	if err != nil {
		return c.fail("downloading", fmt.Errorf("opening the working directory: %w", err))
	}
	defer root.Close()

	var total atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	for _, o := range objects {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := c.downloadOne(gctx, root, o.Key, opts, &total); err != nil {
				return fmt.Errorf("object '%s': %w", o.Key, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return c.fail("downloading", err)
	}
	if err := ctx.Err(); err != nil {
		return c.fail("downloading", err)
	}
	return nil
}

// downloadOne writes one object to its key's path under root.
func (c *Client) downloadOne(ctx context.Context, root *os.Root, key string, opts DownloadOptions, total *atomic.Int64) error {
	if d := path.Dir(key); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	f, err := root.OpenFile(key, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	w := &limitedWriter{w: f, n: opts.MaxObjectSize, key: key, total: total, maxTotal: opts.MaxTotalSize}
	err = c.p.Download(ctx, key, w)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// limitedWriter fails once more than n bytes (n <= 0: no limit) are written to it, or once the
// shared total passes maxTotal, so a service that sends more than it listed cannot fill the
// disk.
type limitedWriter struct {
	w        io.Writer
	n        int64
	written  int64
	key      string
	total    *atomic.Int64
	maxTotal int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.written += int64(len(p))
	if l.n > 0 && l.written > l.n {
		return 0, fmt.Errorf("'%s' is larger than %d bytes: %w", l.key, l.n, ErrSizeLimit)
	}
	if l.total != nil {
		if t := l.total.Add(int64(len(p))); l.maxTotal > 0 && t > l.maxTotal {
			return 0, fmt.Errorf("the selected objects exceed %d bytes in all: %w", l.maxTotal, ErrSizeLimit)
		}
	}
	return l.w.Write(p)
}
