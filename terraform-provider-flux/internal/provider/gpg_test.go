package provider

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"gotk.dev/cli/pkg/bootstrap"
)

// armoredKeyRing is a new secret key ring encrypted with passphrase, as gpg exports it.
func armoredKeyRing(t *testing.T, passphrase string) string {
	t.Helper()
	e, err := openpgp.NewEntity("Flux", "", "flux@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.EncryptPrivateKeys([]byte(passphrase), nil); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestGitSigner: gpg_key_ring is given as content (not a file), and a wrong passphrase
// fails naming the attribute without printing it.
func TestGitSigner(t *testing.T) {
	const pass = "gpg-s3cr3t"
	ring := armoredKeyRing(t, pass)
	g := &gitModel{URL: types.StringValue("https://example.com/fleet.git"), HTTP: &httpModel{Password: types.StringValue("p")},
		GPGKeyRing: types.StringValue(ring), GPGPassphrase: types.StringValue(pass)}
	b := &bootstrap.Bootstrapper{}
	if err := g.configure(context.Background(), b, time.Second); err != nil {
		t.Fatal(err)
	}
	if b.Signer == nil {
		t.Fatal("no signer")
	}
	g.GPGPassphrase = types.StringValue("wrong-" + pass)
	err := g.configure(context.Background(), &bootstrap.Bootstrapper{}, time.Second)
	if err == nil || !strings.Contains(err.Error(), "provider attribute git.gpg_key_ring") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if strings.Contains(err.Error(), pass) {
		t.Errorf("the passphrase is in the error: %v", err)
	}
}
