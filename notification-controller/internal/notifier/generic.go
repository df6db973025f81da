package notifier

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// generic POSTs the event as JSON, with a Gotk-Component header naming the emitter; with
// hmacKey set (generic-hmac) it also signs the body in X-Signature: sha256=<hex>.
type generic struct {
	*httpSender
	address string
	hmacKey []byte
}

func newGeneric(o *Options) (Notifier, error) {
	if err := validateHTTPURL(o.Address); err != nil {
		return nil, permanent("address: %v", err)
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &generic{httpSender: s, address: o.Address}, nil
}

func newGenericHMAC(o *Options) (Notifier, error) {
	if o.Token == "" {
		return nil, errors.New("the Secret must hold a 'token' to sign the payload with")
	}
	n, err := newGeneric(o)
	if err != nil {
		return nil, err
	}
	n.(*generic).hmacKey = []byte(o.Token)
	return n, nil
}

func (g *generic) Post(ctx context.Context, ev eventv1.Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return permanent("encoding the event: %v", err)
	}
	h := http.Header{}
	h.Set("Gotk-Component", ev.ReportingController)
	if g.hmacKey != nil {
		h.Set("X-Signature", "sha256="+hmacHex(g.hmacKey, body))
	}
	_, err = g.do(ctx, request{url: g.address, body: body, header: h})
	return err
}

func hmacHex(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
