package app

import (
	"context"
	"strconv"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func newStatsCommand(c *Command) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Stats of Flux reconciles",
		Long: `The stats command prints a report of Flux custom resources present on a cluster,
including their reconcile status and the amount of cumulative storage used for each source type`,
		Example: `  # Print the stats report for a namespace
  flux stats --namespace default

  # Print the stats report for the whole cluster
  flux stats -A`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.runStats(cmd.Context(), c.commandNamespace(all))
		},
	}
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list the statistics for objects across all namespaces")
	return cmd
}

// runStats prints one row per Flux kind: how many objects reconcile (not suspended), how
// many fail (Ready=False), how many are suspended, and the total size of their artifacts.
// Kinds the cluster does not serve count zero, as upstream.
func (c *Command) runStats(ctx context.Context, namespace string) error {
	kube, _, err := c.connect(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	var rows [][]string
	for _, k := range Kinds() {
		items, err := listObjects(ctx, kube, k, namespace)
		if err != nil && !isKindNotServed(err) {
			return err
		}
		var suspended, failing int
		var size int64
		for i := range items {
			st := StatusOf(&items[i])
			if st.Suspended {
				suspended++
			}
			if st.Ready == string(metav1.ConditionFalse) {
				failing++
			}
			if n, ok, _ := nestedInt64(items[i].Object, "status", "artifact", "size"); ok {
				size += n
			}
		}
		storage := "-"
		if size > 0 {
			storage = humanize.IBytes(uint64(size))
		}
		rows = append(rows, []string{k.Kind, strconv.Itoa(len(items) - suspended), strconv.Itoa(failing), strconv.Itoa(suspended), storage})
	}
	return renderTable(c.Out, []string{"RECONCILERS", "RUNNING", "FAILING", "SUSPENDED", "STORAGE"}, rows)
}

// nestedInt64 reads an integer field that JSON decoding may have left as int64 or float64.
func nestedInt64(obj map[string]any, fields ...string) (int64, bool, error) {
	v, ok, err := unstructured.NestedFieldNoCopy(obj, fields...)
	if !ok || err != nil {
		return 0, ok, err
	}
	switch n := v.(type) {
	case int64:
		return n, true, nil
	case float64:
		return int64(n), true, nil
	}
	return 0, false, nil
}
