package git

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// knownHosts is a parsed known_hosts file (sshd(8) "SSH_KNOWN_HOSTS FILE
// FORMAT"): plain and hashed host patterns, wildcards, negations, and the
// @revoked and @cert-authority markers. Parsed from bytes in memory, because
// the content comes from a Secret and must not be written to disk.
type knownHosts []knownHostLine

type knownHostLine struct {
	marker   string // "", "revoked" or "cert-authority"
	patterns []hostPattern
	key      ssh.PublicKey
}

type hostPattern struct {
	negate bool
	glob   string // lower-case, normalised; empty for hashed patterns
	salt   []byte // hashed patterns (|1|salt|hash)
	hash   []byte
}

// parseKnownHosts parses known_hosts content. It fails on malformed lines so
// a broken Secret is reported instead of silently trusting fewer hosts.
func parseKnownHosts(data []byte) (knownHosts, error) {
	var db knownHosts
	rest := data
	for n := 1; ; n++ {
		marker, hosts, key, _, next, err := ssh.ParseKnownHosts(rest)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", n, err)
		}
		rest = next
		if marker != "" && marker != "revoked" && marker != "cert-authority" {
			return nil, fmt.Errorf("entry %d: unknown marker @%s", n, marker)
		}
		line := knownHostLine{marker: marker, key: key}
		for _, h := range hosts {
			p, err := parseHostPattern(h)
			if err != nil {
				return nil, fmt.Errorf("entry %d: %w", n, err)
			}
			line.patterns = append(line.patterns, p)
		}
		db = append(db, line)
	}
	if len(db) == 0 {
		return nil, errors.New("no host keys found")
	}
	return db, nil
}

func parseHostPattern(h string) (hostPattern, error) {
	var p hostPattern
	if strings.HasPrefix(h, "!") {
		p.negate, h = true, h[1:]
	}
	if strings.HasPrefix(h, "|") {
		parts := strings.Split(h, "|")
		if len(parts) != 4 || parts[1] != "1" {
			return p, fmt.Errorf("invalid hashed host %q: want |1|salt|hash", h)
		}
		var err error
		if p.salt, err = base64.StdEncoding.DecodeString(parts[2]); err != nil {
			return p, fmt.Errorf("invalid hashed host salt: %w", err)
		}
		if p.hash, err = base64.StdEncoding.DecodeString(parts[3]); err != nil {
			return p, fmt.Errorf("invalid hashed host hash: %w", err)
		}
		return p, nil
	}
	if h == "" {
		return p, errors.New("empty host pattern")
	}
	p.glob = strings.ToLower(h)
	if !strings.ContainsAny(h, "*?") {
		p.glob = strings.ToLower(knownhosts.Normalize(h))
	}
	return p, nil
}

// match reports whether the normalised host ("host" or "[host]:port")
// matches the pattern.
func (p hostPattern) match(host string) bool {
	if p.salt != nil {
		mac := hmac.New(sha1.New, p.salt)
		mac.Write([]byte(host))
		return hmac.Equal(mac.Sum(nil), p.hash)
	}
	return globMatch(p.glob, strings.ToLower(host))
}

// matches applies OpenSSH's rule: some positive pattern matches and no
// negated one does.
func (l knownHostLine) matches(host string) bool {
	matched := false
	for _, p := range l.patterns {
		if p.match(host) {
			if p.negate {
				return false
			}
			matched = true
		}
	}
	return matched
}

// globMatch matches s against a pattern where '*' is any run of characters
// and '?' any one character (ssh's match_pattern; '[' is literal).
func globMatch(pattern, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case px < len(pattern) && pattern[px] == '*':
			starP, starS = px, sx
			px++
		case starP >= 0:
			starS++
			px, sx = starP+1, starS
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

func sameKey(a, b ssh.PublicKey) bool { return bytes.Equal(a.Marshal(), b.Marshal()) }

// hostKeyCallback verifies the server's host key (or host certificate)
// against the entries for the dialled address. It never accepts an unknown
// key; errors name the host and the offered key's fingerprint.
func (db knownHosts) hostKeyCallback() ssh.HostKeyCallback {
	checker := &ssh.CertChecker{
		IsHostAuthority: func(auth ssh.PublicKey, address string) bool {
			host := knownhosts.Normalize(address)
			for _, l := range db {
				if l.marker == "cert-authority" && sameKey(l.key, auth) && l.matches(host) {
					return true
				}
			}
			return false
		},
		IsRevoked: func(cert *ssh.Certificate) bool { return db.revoked(cert.SignatureKey) },
		HostKeyFallback: func(hostname string, _ net.Addr, key ssh.PublicKey) error {
			host := knownhosts.Normalize(hostname)
			if db.revoked(key) {
				return fmt.Errorf("host key %s of %s is marked @revoked in known_hosts", ssh.FingerprintSHA256(key), host)
			}
			var known []string
			for _, l := range db {
				if l.marker != "" || !l.matches(host) {
					continue
				}
				if sameKey(l.key, key) {
					return nil
				}
				known = append(known, l.key.Type()+" "+ssh.FingerprintSHA256(l.key))
			}
			if len(known) == 0 {
				return fmt.Errorf("known_hosts has no entry for host %s (server offered %s key %s)",
					host, key.Type(), ssh.FingerprintSHA256(key))
			}
			return fmt.Errorf("host key mismatch for %s: server offered %s key %s, known_hosts lists %s",
				host, key.Type(), ssh.FingerprintSHA256(key), strings.Join(known, ", "))
		},
	}
	return checker.CheckHostKey
}

func (db knownHosts) revoked(key ssh.PublicKey) bool {
	for _, l := range db {
		if l.marker == "revoked" && sameKey(l.key, key) {
			return true
		}
	}
	return false
}

// hostKeyAlgorithms lists the algorithms of the keys known for address, so
// the server presents a key we can check (a server offering ed25519 and
// ecdsa must show the one in known_hosts). Nil, meaning the client default,
// when a certificate authority applies or nothing matches.
func (db knownHosts) hostKeyAlgorithms(address string) []string {
	host := knownhosts.Normalize(address)
	var algos []string
	seen := map[string]bool{}
	for _, l := range db {
		if !l.matches(host) {
			continue
		}
		switch l.marker {
		case "cert-authority":
			return nil
		case "revoked":
			continue
		}
		for _, a := range algorithmsFor(l.key.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}
