package notifier

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// matrix sends an m.room.message text event to the room named by the channel.
type matrix struct {
	*httpSender
	address, room, token string
}

func newMatrix(o *Options) (Notifier, error) {
	if err := validateHTTPURL(o.Address); err != nil {
		return nil, permanent("address: %v", err)
	}
	if o.Channel == "" {
		return nil, errors.New("the channel (room ID) is required")
	}
	if o.Token == "" {
		return nil, errors.New("the Secret must hold a 'token' (an access token)")
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &matrix{httpSender: s, address: strings.TrimSuffix(o.Address, "/"), room: o.Channel, token: o.Token}, nil
}

func (m *matrix) Post(ctx context.Context, ev eventv1.Event) error {
	raw, err := json.Marshal(ev)
	if err != nil {
		return permanent("encoding the event: %v", err)
	}
	// The transaction ID is derived from the event, so a retried delivery is deduplicated by
	// the homeserver instead of posted twice.
	sum := sha1.Sum(raw)
	u := m.address + "/_matrix/client/v3/rooms/" + url.PathEscape(m.room) +
		"/send/m.room.message/" + hex.EncodeToString(sum[:])
	h := http.Header{"Authorization": {"Bearer " + m.token}}
	_, err = m.do(ctx, request{method: http.MethodPut, url: u, header: h,
		body: map[string]string{"msgtype": "m.text", "body": plainText(&ev)}})
	return err
}
