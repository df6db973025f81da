package main

import (
	"context"

	"gotk.dev/pkg/artifact"
)

// storageServer serves the artifact storage for as long as the manager runs. Every replica
// serves, leader or not, so consumers can download from whichever one the Service picks.
type storageServer struct {
	storage *artifact.Storage
	addr    string
}

func (s storageServer) Start(ctx context.Context) error { return s.storage.Serve(ctx, s.addr) }

func (storageServer) NeedLeaderElection() bool { return false }
