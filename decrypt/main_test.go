package decrypt

import (
	"fmt"
	"os"
	"testing"

	"gotk.dev/internal/testing/azurekvapi"
)

// TestMain makes the process trust the Azure Key Vault test server's CA before anything
// dials TLS (the Azure SDK reaches its servers over TLS only, with the system roots).
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "decrypt-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := azurekvapi.TrustCA(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
