package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"time"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
)

// startAlerts serves the demo's central alerting endpoint on 127.0.0.1: the platform
// repository's generic-hmac Providers post every Flux event here. An event whose
// X-Signature is not the HMAC-SHA256 of its body under key is refused (401); an accepted one
// is appended to logPath as one line (`tail -f` it to watch the fleet).
func startAlerts(key, logPath string) (*httptest.Server, error) {
	if key == "" {
		return nil, fmt.Errorf("--alerts-key is required")
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || r.Method != http.MethodPost {
			http.Error(w, "POST an event", http.StatusBadRequest)
			return
		}
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write(body)
		if !hmac.Equal([]byte(r.Header.Get("X-Signature")), []byte("sha256="+hex.EncodeToString(mac.Sum(nil)))) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev eventv1.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "not an event", http.StatusBadRequest)
			return
		}
		o := ev.InvolvedObject
		mu.Lock()
		fmt.Fprintf(f, "%s cluster=%s %s %s/%s/%s %s: %s\n", time.Now().Format(time.RFC3339), ev.Metadata["cluster"],
			ev.Severity, o.Kind, o.Namespace, o.Name, ev.Reason, strings.ReplaceAll(ev.Message, "\n", "; "))
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})), nil
}
