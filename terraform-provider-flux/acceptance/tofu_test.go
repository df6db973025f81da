package acceptance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotk.dev/internal/testing/workspace"
)

// tofu runs the real OpenTofu (bin/tofu, built by `make testbin`) in a working directory
// whose CLI configuration points the fluxcd/flux provider at the binary this test built
// (dev_overrides: no registry, no init).
type tofu struct {
	bin, dir string
	env      []string
}

// buildProvider builds the provider into dir, where dev_overrides points.
func buildProvider(dir string) error {
	root, err := workspace.Root()
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "terraform-provider-flux"), "./terraform-provider-flux")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the provider: %v\n%s", err, out)
	}
	return nil
}

// newTofu prepares a working directory with main.tf for a provider installed in pluginDir.
func newTofu(t *testing.T, pluginDir, mainTF string) *tofu {
	t.Helper()
	bin := filepath.Join(workspace.BinDir(), "tofu")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s not found: run `make testbin` to build OpenTofu", bin)
	}
	dir := t.TempDir()
	rc := filepath.Join(dir, "tofurc")
	cfg := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n", "fluxcd/flux", pluginDir)
	if err := os.WriteFile(rc, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(mainTF), 0o644); err != nil {
		t.Fatal(err)
	}
	return &tofu{bin: bin, dir: dir, env: append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_LOG=", "TF_DATA_DIR="+filepath.Join(dir, ".tofu"))}
}

// result is one tofu run.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string { return r.stdout + r.stderr }

// run runs tofu with args (plus -no-color and -input=false where they apply) and logs its output.
func (tf *tofu) run(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	full := args
	switch args[0] {
	case "plan", "apply", "destroy", "import":
		full = append([]string{args[0], "-no-color", "-input=false"}, args[1:]...)
	}
	cmd := exec.CommandContext(ctx, tf.bin, full...)
	cmd.Dir, cmd.Env = tf.dir, tf.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if exit, ok := err.(*exec.ExitError); ok {
		r.code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("tofu %s: %v", strings.Join(args, " "), err)
	}
	// Plans print every managed file: the log keeps the end, where results and errors are.
	out := r.String()
	if len(out) > 3000 {
		out = "[...]" + out[len(out)-3000:]
	}
	t.Logf("tofu %s -> %d in %s\n%s", strings.Join(args, " "), r.code, time.Since(start).Round(time.Millisecond), out)
	return r
}

// vars turns name=value pairs into -var arguments.
func vars(kv ...string) []string {
	var out []string
	for _, v := range kv {
		out = append(out, "-var", v)
	}
	return out
}
