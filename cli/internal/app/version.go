package app

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func newVersionCommand(c *Command) *cobra.Command {
	var clientOnly bool
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the client and server-side components version information.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := map[string]string{"flux": Version}
			if !clientOnly {
				if err := serverVersions(cmd.Context(), c, info); err != nil {
					return err
				}
			}
			return printVersions(c, info, output)
		},
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "print only client version")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "the format in which the information should be printed. can be 'json' or 'yaml'")
	return cmd
}

// serverVersions adds the Kubernetes version and the controllers' image tags.
func serverVersions(ctx context.Context, c *Command, info map[string]string) error {
	kube, err := c.Global.Kube()
	if err != nil {
		return err
	}
	sv, err := kube.Clientset.Discovery().ServerVersion()
	if err != nil {
		return fmt.Errorf("cannot reach the cluster: %w", err)
	}
	info["kubernetes"] = sv.GitVersion
	deps, err := kube.Clientset.AppsV1().Deployments(c.Global.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/part-of=flux"})
	if err != nil {
		return err
	}
	for _, d := range deps.Items {
		for _, ctr := range d.Spec.Template.Spec.Containers {
			if i := strings.LastIndex(ctr.Image, ":"); i > 0 {
				info[d.Name] = ctr.Image[i+1:]
			}
		}
	}
	return nil
}

func printVersions(c *Command, info map[string]string, output string) error {
	keys := make([]string, 0, len(info))
	for k := range info {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	switch output {
	case "yaml":
		for _, k := range keys {
			fmt.Fprintf(c.Out, "%s: %s\n", k, info[k])
		}
	case "json":
		fmt.Fprintln(c.Out, "{")
		for i, k := range keys {
			sep := ","
			if i == len(keys)-1 {
				sep = ""
			}
			fmt.Fprintf(c.Out, "  %q: %q%s\n", k, info[k], sep)
		}
		fmt.Fprintln(c.Out, "}")
	default:
		return fmt.Errorf("--output must be json or yaml, got %q", output)
	}
	return nil
}
