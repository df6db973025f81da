package testenv

import (
	"context"
	"fmt"
	"os"

	crmanager "sigs.k8s.io/controller-runtime/pkg/manager"
)

// RunManager starts m in the background for a suite (see MainFunc) and registers its stop
// with cleanup; an error the manager ends with is printed, since no test is left to fail.
func RunManager(m crmanager.Manager, cleanup func(func())) {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- m.Start(ctx) }()
	cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	})
}
