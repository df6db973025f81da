package plugin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// Streams are what a plugin process inherits from the flux command.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// Run runs the plugin at path with args and the process environment, on streams, and
// returns the plugin's exit code (0 on success). The error is for a plugin that could not
// be started at all. A child process rather than exec(2) keeps flux's signal handling
// (the context is cancelled on Ctrl-C and the plugin is killed) and runs on every OS.
func Run(ctx context.Context, path string, args []string, s Streams) (int, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = s.In, s.Out, s.Err
	cmd.Env = os.Environ()
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit):
		if code := exit.ExitCode(); code > 0 {
			return code, nil
		}
		return 1, nil // killed by a signal
	default:
		return 1, err
	}
}

// Complete asks the plugin (a Cobra program, as upstream's plugins are) for completions of
// args and toComplete through its hidden __complete command and returns them with the
// directive it printed last (":<n>"). A plugin that is no Cobra program completes nothing.
func Complete(ctx context.Context, path string, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, path, append(append([]string{cobra.ShellCompRequestCmd}, args...), toComplete)...)
	cmd.Stdout = &out
	cmd.Env = os.Environ()
	if cmd.Run() != nil {
		return nil, cobra.ShellCompDirectiveDefault
	}
	var lines []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
		return nil, cobra.ShellCompDirectiveDefault
	}
	directive, err := strconv.Atoi(strings.TrimPrefix(lines[len(lines)-1], ":"))
	if err != nil {
		return nil, cobra.ShellCompDirectiveDefault
	}
	return lines[:len(lines)-1], cobra.ShellCompDirective(directive)
}
