// Package app builds the flux command tree. Every invocation builds a fresh tree from
// constructors, so commands hold no package-level state and tests run them in parallel.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X gotk.dev/cli/internal/app.Version=...".
var Version = "0.0.0-dev"

// ExitError carries a specific exit code (flux diff exits 1 when there are differences).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Main runs the flux CLI and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Execute(&Streams{In: stdin, Out: stdout, Err: stderr}, args)
}

// Execute runs a fresh command tree on streams and returns the exit code.
func Execute(streams *Streams, args []string) int {
	stderr := streams.Err
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	cmd := NewRootCommand(streams)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			NewLogger(stderr).Failuref("%s", exit.Err)
		}
		return exit.Code
	}
	NewLogger(stderr).Failuref("%s", err)
	return 1
}

// Streams are the command's standard streams (data goes to Out, progress to Err) and its
// clock.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// Now is the clock ages are computed against; nil means time.Now. Tests pin it.
	Now func() time.Time
	// Env reads environment variables; nil means os.Getenv. Tests set it, so parallel
	// tests never touch the process environment.
	Env func(string) string
}

// Getenv reads an environment variable through the streams' environment.
func (s *Streams) Getenv(key string) string {
	if s.Env != nil {
		return s.Env(key)
	}
	return os.Getenv(key)
}

// Clock returns the current time of the command's clock.
func (s *Streams) Clock() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Command is what every subcommand constructor receives: the streams and the global options.
type Command struct {
	*Streams
	Global *GlobalOptions
}

// Log returns the progress logger (stderr).
func (c *Command) Log() *Logger { return NewLogger(c.Err) }

// NewRootCommand builds the whole command tree.
func NewRootCommand(streams *Streams) *cobra.Command {
	g := NewGlobalOptions()
	c := &Command{Streams: streams, Global: g}
	root := &cobra.Command{
		Use:           "flux",
		Short:         "Command line utility for assembling Kubernetes CD pipelines the GitOps way.",
		Long:          "Command line utility for assembling Kubernetes CD pipelines the GitOps way.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.SetIn(streams.In)
	g.BindFlags(root.PersistentFlags())
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		return g.Resolve(cmd.Flags(), streams.Getenv)
	}
	for _, group := range commandGroups {
		root.AddCommand(group(c)...)
	}
	for _, extend := range commandExtensions {
		extend(root, c)
	}
	addNameCompletion(root, c)
	registerPlugins(root, c) // last: a plugin never shadows a built-in command
	return root
}
