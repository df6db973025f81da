package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	natsgo "github.com/nats-io/nats.go"
)

// nats publishes the event as JSON on the subject named by the channel. The connection is
// opened at the first Post and kept until Close; username/password come from the Secret (or
// the address's userinfo).
type nats struct {
	mu      sync.Mutex
	conn    *natsgo.Conn
	opts    []natsgo.Option
	address string
	subject string
	red     *redactor
}

func newNATS(o *Options) (Notifier, error) {
	if o.Address == "" {
		return nil, permanent("the address (NATS server URL) is required")
	}
	if o.Channel == "" {
		return nil, permanent("the channel (subject) is required")
	}
	tlsCfg, err := newTLSConfig(o)
	if err != nil {
		return nil, err
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second // nats.Timeout(0) would fail every connection
	}
	opts := []natsgo.Option{natsgo.Name("flux-notification-controller"), natsgo.Timeout(timeout)}
	if o.Username != "" || o.Password != "" {
		opts = append(opts, natsgo.UserInfo(o.Username, o.Password))
	}
	if tlsCfg != nil {
		opts = append(opts, natsgo.Secure(tlsCfg))
	}
	return &nats{opts: opts, address: o.Address, subject: o.Channel, red: newRedactor(o)}, nil
}

func (n *nats) connection() (*natsgo.Conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn != nil && !n.conn.IsClosed() {
		return n.conn, nil
	}
	c, err := natsgo.Connect(n.address, n.opts...)
	if err != nil {
		return nil, n.red.wrap(&DeliveryError{Retryable: !errors.Is(err, natsgo.ErrAuthorization),
			msg: "connecting to NATS " + redactURL(n.address) + ": " + err.Error()})
	}
	n.conn = c
	return c, nil
}

func (n *nats) Post(ctx context.Context, ev eventv1.Event) error {
	payload, err := json.Marshal(ev)
	if err != nil {
		return permanent("encoding the event: %v", err)
	}
	c, err := n.connection()
	if err != nil {
		return err
	}
	if err := c.Publish(n.subject, payload); err != nil {
		return n.red.wrap(err)
	}
	// Publish only buffers: a flush round trip confirms the server has the message.
	if err := c.FlushWithContext(ctx); err != nil {
		return n.red.wrap(err)
	}
	if err := c.LastError(); err != nil {
		return n.red.wrap(permanent("NATS refused the message: %v", err))
	}
	return nil
}

func (n *nats) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn != nil {
		n.conn.Close()
		n.conn = nil
	}
	return nil
}
