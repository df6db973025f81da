package oomwatch

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

func TestStopsAtThreshold(t *testing.T) {
	dir := t.TempDir()
	maxPath, curPath := filepath.Join(dir, "memory.max"), filepath.Join(dir, "memory.current")
	write := func(p, v string) {
		if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(maxPath, "1000")
	write(curPath, "500")
	ctx, err := Context(context.Background(), Options{Interval: 10 * time.Millisecond, Threshold: 95, MaxPath: maxPath, CurrentPath: curPath, Log: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
		t.Fatal("stopped below the threshold")
	case <-time.After(100 * time.Millisecond):
	}
	write(curPath, "960")
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("did not stop above the threshold")
	}
}

func TestNoLimitIsAnError(t *testing.T) {
	dir := t.TempDir()
	maxPath := filepath.Join(dir, "memory.max")
	if err := os.WriteFile(maxPath, []byte("max\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Context(context.Background(), Options{Interval: time.Second, Threshold: 95, MaxPath: maxPath, CurrentPath: maxPath}); err == nil {
		t.Fatal("no error without a memory limit")
	}
}
