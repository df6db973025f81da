package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"

	"gotk.dev/pkg/artifact"
)

// storageServer serves the artifact storage for as long as the manager runs. Every replica
// serves, leader or not, so consumers can download from whichever one the Service picks.
// It binds its listener before the manager starts, so /readyz never reports ready while
// artifact URLs would be refused.
type storageServer struct {
	storage  *artifact.Storage
	listener net.Listener
	serving  atomic.Bool
}

func newStorageServer(storage *artifact.Storage, addr string) (*storageServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--storage-addr %s: %w", addr, err)
	}
	return &storageServer{storage: storage, listener: l}, nil
}

func (s *storageServer) Start(ctx context.Context) error {
	s.serving.Store(true)
	defer s.serving.Store(false)
	return s.storage.ServeListener(ctx, s.listener)
}

func (*storageServer) NeedLeaderElection() bool { return false }

// ready is the /readyz check of the artifact server.
func (s *storageServer) ready(*http.Request) error {
	if !s.serving.Load() {
		return errors.New("artifact server not serving")
	}
	return nil
}
