package git

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"net"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func newHostKey(t testing.TB) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func authorized(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

func TestKnownHostsMatching(t *testing.T) {
	key, other := newHostKey(t), newHostKey(t)
	tests := []struct {
		name    string
		file    string
		addr    string
		key     ssh.PublicKey
		wantErr string
	}{
		{name: "plain host, default port", file: "github.com " + authorized(key), addr: "github.com:22", key: key},
		{name: "host names are case-insensitive", file: "GitHub.com " + authorized(key), addr: "github.com:22", key: key},
		{name: "bracketed port", file: "[127.0.0.1]:2222 " + authorized(key), addr: "127.0.0.1:2222", key: key},
		{name: "port 22 in brackets", file: "[example.com]:22 " + authorized(key), addr: "example.com:22", key: key},
		{name: "entry without port does not cover other ports", file: "127.0.0.1 " + authorized(key), addr: "127.0.0.1:2222", key: key, wantErr: "no entry for host [127.0.0.1]:2222"},
		{name: "several hosts on a line", file: "a.com,b.com " + authorized(key), addr: "b.com:22", key: key},
		{name: "hashed host", file: knownhosts.HashHostname("[10.0.0.1]:2022") + " " + authorized(key), addr: "10.0.0.1:2022", key: key},
		{name: "hashed host, other host", file: knownhosts.HashHostname("a.com") + " " + authorized(key), addr: "b.com:22", key: key, wantErr: "no entry"},
		{name: "wildcard", file: "*.example.com " + authorized(key), addr: "git.example.com:22", key: key},
		{name: "question mark", file: "git?.example.com " + authorized(key), addr: "git1.example.com:22", key: key},
		{name: "negated pattern", file: "*.example.com,!evil.example.com " + authorized(key), addr: "evil.example.com:22", key: key, wantErr: "no entry"},
		{name: "wrong key", file: "github.com " + authorized(key), addr: "github.com:22", key: other, wantErr: "host key mismatch for github.com"},
		{name: "second line has the key", file: "github.com " + authorized(other) + "\n# comment\n\ngithub.com " + authorized(key), addr: "github.com:22", key: key},
		{name: "revoked key", file: "@revoked * " + authorized(key) + "\ngithub.com " + authorized(key), addr: "github.com:22", key: key, wantErr: "@revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := parseKnownHosts([]byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			err = db.hostKeyCallback()(tt.addr, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}, tt.key)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if len(db.hostKeyAlgorithms(tt.addr)) == 0 {
					t.Fatal("no host key algorithms for a matching host")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestKnownHostsParseErrors(t *testing.T) {
	for _, in := range []string{"", "# only a comment\n", "host ssh-ed25519", "host ssh-ed25519 AAAA", "@bogus host " + authorized(newHostKey(t)), "|2|abc|def " + authorized(newHostKey(t))} {
		if _, err := parseKnownHosts([]byte(in)); err == nil {
			t.Errorf("parseKnownHosts(%q) succeeded", in)
		}
	}
}

func TestHostKeyAlgorithms(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, err := ssh.NewPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	file := "[h]:2222 " + authorized(newHostKey(t)) + "\n[h]:2222 " + authorized(rsaPub) + "\n"
	db, err := parseKnownHosts([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(db.hostKeyAlgorithms("h:2222"), ",")
	want := "ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ssh-rsa"
	if got != want {
		t.Fatalf("algorithms = %s, want %s", got, want)
	}
	if algos := db.hostKeyAlgorithms("other:22"); algos != nil {
		t.Fatalf("algorithms for an unknown host = %v", algos)
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "anything", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"[h]:22*", "[h]:2222", true},
		{"*.x.com", "x.com", false},
		{"**a", "bba", true},
		{"", "", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v", tt.pattern, tt.s, got)
		}
	}
}

// FuzzParseKnownHosts feeds arbitrary Secret content to the parser and the
// matcher: neither may panic, and nothing parsed may accept a key the file
// does not contain.
func FuzzParseKnownHosts(f *testing.F) {
	key := newHostKey(f)
	f.Add([]byte("github.com " + authorized(key)))
	f.Add([]byte("@revoked * " + authorized(key)))
	f.Add([]byte("@cert-authority *.example.com " + authorized(key)))
	f.Add([]byte(knownhosts.HashHostname("[h]:22") + " " + authorized(key)))
	f.Add([]byte("*.a,!b.a,[c]:1 " + authorized(key) + " comment\n#x\n"))
	stranger := newHostKey(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := parseKnownHosts(data)
		if err != nil {
			return
		}
		cb := db.hostKeyCallback()
		for _, addr := range []string{"github.com:22", "h:22", "c:1", "x.a:22", "127.0.0.1:2222"} {
			_ = db.hostKeyAlgorithms(addr)
			if err := cb(addr, &net.TCPAddr{}, stranger); err == nil {
				t.Fatalf("accepted a key absent from known_hosts for %s", addr)
			}
		}
	})
}
