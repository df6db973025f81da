// Command images builds the controllers' container images and pushes them, without Docker.
// `make images` and `make images-push` run it from the repository root:
//
//	images build [--out bin/images] [--version v0.0.0-dev] [--revision SHA] [--source URL] [--arch amd64] [controller...]
//	images push --registry HOST[:PORT]/PATH [--out bin/images] [--insecure]
//
// build compiles every controller that has a main package (or the ones named) and writes
// bin/images/<controller>/ as an OCI image layout; push uploads them all to
// <registry>/<controller>:<version>, with credentials from the Docker config.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gotk.dev/e2e/images"
)

// Defaults for metadata the Makefile does not pass.
const (
	defaultVersion = "v0.0.0-dev"
	defaultSource  = "https://github.com/gotk-dev/gotk"
)

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "build" && os.Args[1] != "push") {
		fmt.Fprintln(os.Stderr, "usage: images build [flags] [controller...] | images push --registry REGISTRY [flags]")
		os.Exit(2)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	var err error
	if os.Args[1] == "build" {
		err = build(ctx, os.Args[2:])
	} else {
		err = push(ctx, os.Args[2:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

func build(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	root := fs.String("root", ".", "repository root (holding go.work)")
	out := fs.String("out", "bin/images", "output directory: one OCI layout per controller")
	version := fs.String("version", defaultVersion, "image tag and org.opencontainers.image.version")
	revision := fs.String("revision", "", "org.opencontainers.image.revision (default: git rev-parse HEAD)")
	source := fs.String("source", defaultSource, "org.opencontainers.image.source")
	arch := fs.String("arch", "", "GOARCH of the images (default: this machine's)")
	cacerts := fs.String("ca-certs", images.DefaultCACerts, "CA bundle to include")
	_ = fs.Parse(args)
	created, err := createdTime(*root)
	if err != nil {
		return err
	}
	if *revision == "" {
		*revision = gitOutput(*root, "rev-parse", "HEAD")
		if *revision == "" {
			*revision = "unknown"
		}
	}
	_, err = images.Build(ctx, images.Options{
		Root: *root, Out: *out, Controllers: fs.Args(), Arch: *arch, CACerts: *cacerts,
		Metadata: images.Metadata{Version: *version, Revision: *revision, Source: *source, Created: created},
		Logf:     func(format string, a ...any) { fmt.Printf(format+"\n", a...) },
	})
	return err
}

func push(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("push", flag.ExitOnError)
	registry := fs.String("registry", "", "registry and path prefix to push to, e.g. ghcr.io/you (required)")
	out := fs.String("out", "bin/images", "directory of the OCI layouts `images build` wrote")
	insecure := fs.Bool("insecure", false, "allow plain HTTP to a non-loopback registry")
	_ = fs.Parse(args)
	if *registry == "" {
		return fmt.Errorf("--registry is required (e.g. make images-push REGISTRY=ghcr.io/you)")
	}
	pushed, err := images.PushAll(ctx, *out, strings.TrimSuffix(*registry, "/"), images.PushOptions{Insecure: *insecure})
	for _, p := range pushed {
		fmt.Println("pushed", p)
	}
	return err
}

// createdTime is $SOURCE_DATE_EPOCH, else the time of the commit being built, else the Unix
// epoch: never the wall clock, so rebuilding a commit reproduces its digests.
func createdTime(root string) (time.Time, error) {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a Unix time", s)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	if s := gitOutput(root, "log", "-1", "--format=%ct"); s != "" {
		if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(sec, 0).UTC(), nil
		}
	}
	return time.Unix(0, 0).UTC(), nil
}

// gitOutput runs git in dir and returns its trimmed output, or "" when git fails.
func gitOutput(dir string, args ...string) string {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
