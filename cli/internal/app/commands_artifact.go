package app

import "github.com/spf13/cobra"

// artifactCommands work with Flux OCI artifacts in container registries: push
// (artifact_push.go), pull (artifact_pull.go), tag (artifact_tag.go) and list
// (artifact_list.go).
func artifactCommands(c *Command) []*cobra.Command {
	push := &cobra.Command{Use: "push", Short: "Push artifacts", Long: "The push command pushes artifacts to a container registry."}
	push.AddCommand(newPushArtifactCommand(c))
	pull := &cobra.Command{Use: "pull", Short: "Pull artifacts", Long: "The pull command pulls artifacts from a container registry."}
	pull.AddCommand(newPullArtifactCommand(c))
	tag := &cobra.Command{Use: "tag", Short: "Tag artifacts", Long: "The tag command tags artifacts in a container registry."}
	tag.AddCommand(newTagArtifactCommand(c))
	list := &cobra.Command{Use: "list", Short: "List artifacts", Long: "The list command lists artifacts in a container registry."}
	list.AddCommand(newListArtifactsCommand(c))
	return []*cobra.Command{push, pull, tag, list}
}
