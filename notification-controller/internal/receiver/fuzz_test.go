package receiver

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	apiv1 "gotk.dev/notification-controller/api/v1"
)

// FuzzParsePayloads feeds arbitrary bodies to every payload parser: none may panic, and a
// parser that accepts a body must return its required fields. Seeds: testdata/fuzz/FuzzParsePayloads.
func FuzzParsePayloads(f *testing.F) {
	for _, s := range []string{dockerhubMsg, quayMsg, nexusMsg, acrMsg, cdeventMsg, gcrBody("INSERT"), githubPush} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if p, err := ParseDockerHub(body); err == nil && (p.Repository.RepoName == "" || p.PushData.Tag == "") {
			t.Fatal("dockerhub accepted without repository/tag")
		}
		if p, err := ParseQuay(body); err == nil && p.DockerURL == "" {
			t.Fatal("quay accepted without docker_url")
		}
		if p, err := ParseNexus(body); err == nil && p.RepositoryName == "" {
			t.Fatal("nexus accepted without repositoryName")
		}
		if p, err := ParseACR(body); err == nil && p.Target.Repository == "" {
			t.Fatal("acr accepted without repository")
		}
		if p, err := ParseCDEvent(body); err == nil && !strings.HasPrefix(p.Context.Type, "dev.cdevents.") {
			t.Fatal("cdevent accepted with another type")
		}
		if p, err := ParseGCR(body); err == nil && p.Action == "" {
			t.Fatal("gcr accepted without action")
		}
		_, _ = ParseJSONObject(body)
	})
}

// FuzzSignatures: an X-Signature triggers exactly when it is the HMAC of the body under the
// Receiver's token with a supported algorithm. Seeds: testdata/fuzz/FuzzSignatures.
func FuzzSignatures(f *testing.F) {
	f.Add([]byte("payload"), "sha256=00")
	f.Add([]byte("{}"), "sha1=")
	f.Add([]byte(""), "=")
	f.Add([]byte("payload"), "sha256="+sign(sha256.New, token, "payload"))
	v := NewValidator(Options{})
	rcv := receiverOf(apiv1.GenericHMACReceiver)
	hashes := map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New}
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		r := httptest.NewRequest(http.MethodPost, "/hook/x", strings.NewReader(string(body)))
		r.Header.Set("X-Signature", sig)
		d := v.Validate(t.Context(), r, Config{Receiver: rcv, Token: token})
		algo, sum, _ := strings.Cut(strings.TrimSpace(sig), "=")
		h, known := hashes[strings.ToLower(algo)]
		valid := known && strings.ToLower(sum) == sign(h, token, string(body))
		if d.Trigger != valid {
			t.Fatalf("signature %q on %q: trigger=%v, valid=%v", sig, body, d.Trigger, valid)
		}
	})
}
