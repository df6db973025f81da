package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
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
		if v := controllerVersion(d.Spec.Template.Spec.Containers); v != "" {
			info[d.Name] = v
		}
	}
	return nil
}

// controllerVersion is the version a Deployment runs: the tag of its "manager" container's
// image (else the first container's), or the digest when the image is pinned by digest only.
func controllerVersion(containers []corev1.Container) string {
	if len(containers) == 0 {
		return ""
	}
	img := containers[0].Image
	for _, ctr := range containers {
		if ctr.Name == "manager" {
			img = ctr.Image
		}
	}
	base, digest, _ := strings.Cut(img, "@")
	repo := base[strings.LastIndex(base, "/")+1:]
	if strings.Contains(repo, ":") {
		if tag, err := name.NewTag(base, name.WeakValidation); err == nil {
			return tag.TagStr()
		}
	}
	return digest
}

func printVersions(c *Command, info map[string]string, output string) error {
	var out []byte
	var err error
	switch output {
	case "yaml":
		out, err = yaml.Marshal(info) // keys sorted
	case "json":
		out, err = json.MarshalIndent(info, "", "  ")
		out = append(out, '\n')
	default:
		return fmt.Errorf("--output must be json or yaml, got %q", output)
	}
	if err != nil {
		return err
	}
	_, err = c.Out.Write(out)
	return err
}
