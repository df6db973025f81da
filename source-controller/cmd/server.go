package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync/atomic"

	"gotk.dev/pkg/artifact"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/options"
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

// newStorage creates the artifact storage of --storage-path and serves it on --storage-addr
// for as long as rt's manager runs.
func newStorage(rt *manager.Runtime, o options.Storage) (*artifact.Storage, error) {
	storage, err := artifact.NewStorage(artifact.StorageOptions{
		BasePath:         o.Path,
		Hostname:         advertisedAddr(o),
		RetentionTTL:     o.RetentionTTL,
		RetentionRecords: o.RetentionRecords,
		DigestAlgorithm:  o.DigestAlgorithm,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	server, err := newStorageServer(storage, o.Addr)
	if err != nil {
		return nil, err
	}
	if err := rt.Manager.Add(server); err != nil {
		return nil, err
	}
	if err := rt.Manager.AddReadyzCheck("storage", server.ready); err != nil {
		return nil, err
	}
	return storage, nil
}

// advertisedAddr is --storage-adv-addr, or this host's name with the --storage-addr port.
func advertisedAddr(o options.Storage) string {
	if o.AdvAddr != "" {
		return o.AdvAddr
	}
	host, _ := os.Hostname()
	_, port, err := net.SplitHostPort(o.Addr)
	if err != nil || port == "" {
		return host
	}
	return net.JoinHostPort(host, port)
}
