package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

// logsOptions are the flags of flux logs.
type logsOptions struct {
	kind, name, level string
	follow            bool
	tail              int64
	since             time.Duration
	sinceTime         string
	allNamespaces     bool
	fluxNamespace     string
	fromFiles         []string
}

func newLogsCommand(c *Command) *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Display formatted logs for Flux components",
		Long:  "The logs command displays formatted logs from various Flux components.",
		Example: `  # Print the reconciliation logs of all Flux custom resources in your cluster
  flux logs --all-namespaces

  # Print all logs of all Flux custom resources newer than 2 minutes
  flux logs --all-namespaces --since=2m

  # Stream logs for a particular log level
  flux logs --follow --level=error --all-namespaces

  # Filter logs by kind, name and namespace
  flux logs --kind=Kustomization --name=podinfo --namespace=default

  # Print logs when Flux is installed in a different namespace than flux-system
  flux logs --flux-namespace=my-namespace

  # Read the logs of controllers running outside the cluster
  flux logs -A --from-file=source-controller.log --from-file=kustomize-controller.log`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.runLogs(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.level, "level", "", "log level, available options are: (debug, info, error)")
	f.StringVar(&o.kind, "kind", "", "displays errors of a particular toolkit kind e.g GitRepository")
	f.StringVar(&o.name, "name", "", "specifies the name of the object logs to be displayed")
	f.BoolVarP(&o.follow, "follow", "f", false, "specifies if the logs should be streamed")
	f.Int64Var(&o.tail, "tail", -1, "lines of recent log file to display")
	f.DurationVar(&o.since, "since", 0, "Only return logs newer than a relative duration like 5s, 2m, or 3h. Defaults to all logs. Only one of since-time / since may be used.")
	f.StringVar(&o.sinceTime, "since-time", "", "Only return logs after a specific date (RFC3339). Defaults to all logs. Only one of since-time / since may be used.")
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "displays logs for objects across all namespaces")
	f.StringVar(&o.fluxNamespace, "flux-namespace", "flux-system", "the namespace where the Flux components are running")
	f.StringArrayVar(&o.fromFiles, "from-file", nil, "read controller logs (JSON lines) from this file instead of the cluster's pods; repeatable")
	return cmd
}

func (o *logsOptions) readOptions(now time.Time) (logReadOptions, error) {
	ro := logReadOptions{Follow: o.follow, Tail: o.tail}
	if o.since != 0 && o.sinceTime != "" {
		return ro, errors.New("at most one of --since or --since-time may be used")
	}
	if o.since < 0 {
		return ro, fmt.Errorf("--since=%s: must be positive", o.since)
	}
	if o.since > 0 {
		ro.Since = now.Add(-o.since)
	}
	if o.sinceTime != "" {
		t, err := time.Parse(time.RFC3339, o.sinceTime)
		if err != nil {
			return ro, fmt.Errorf("--since-time=%s: want an RFC3339 time such as 2024-01-02T15:04:05Z", o.sinceTime)
		}
		ro.Since = t
	}
	return ro, nil
}

func (c *Command) runLogs(ctx context.Context, o *logsOptions) error {
	switch strings.ToLower(o.level) {
	case "", "debug", "info", "error":
	default:
		return fmt.Errorf("invalid --level %q: available options are debug, info, error", o.level)
	}
	ro, err := o.readOptions(time.Now())
	if err != nil {
		return err
	}
	var src LogSource
	if len(o.fromFiles) > 0 {
		src = &fileLogSource{paths: o.fromFiles, opts: ro}
	} else {
		kube, _, err := c.connect(ctx)
		if err != nil {
			return err
		}
		src = &podLogSource{clientset: kube.Clientset, namespace: o.fluxNamespace, opts: ro}
	}
	if !o.follow {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Global.Timeout)
		defer cancel()
	}
	filter := logFilter{Level: o.level, Kind: o.kind, Name: o.name, Namespace: c.Global.Namespace,
		AllNamespaces: o.allNamespaces, Since: ro.Since}
	return printLogs(ctx, src, filter, o.follow, c.Out)
}

// printLogs writes the entries of every stream that pass filter to w: one stream after the
// other, or all at once, line by line, when following.
func printLogs(ctx context.Context, src LogSource, filter logFilter, follow bool, w io.Writer) error {
	streams, err := src.Open(ctx)
	if err != nil {
		return err
	}
	defer closeStreams(streams)
	if !follow {
		for _, s := range streams {
			if err := copyLogs(s, filter, w, nil); err != nil {
				return err
			}
		}
		return nil
	}
	var mu sync.Mutex
	errs := make(chan error, len(streams))
	for _, s := range streams {
		go func() { errs <- copyLogs(s, filter, w, &mu) }()
	}
	var first error
	for range streams {
		if err := <-errs; err != nil && first == nil && ctx.Err() == nil {
			first = err
		}
	}
	return first
}

// copyLogs filters and prints one stream; mu, when set, serialises writes with other streams.
func copyLogs(s LogStream, filter logFilter, w io.Writer, mu *sync.Mutex) error {
	r := bufio.NewReaderSize(s, 64*1024)
	for {
		line, err := r.ReadBytes('\n')
		if e, ok := parseLogLine(line); ok && filter.match(e) {
			if mu != nil {
				mu.Lock()
			}
			_, werr := io.WriteString(w, e.format())
			if mu != nil {
				mu.Unlock()
			}
			if werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the logs of %s: %w", s.Name, err)
		}
	}
}
