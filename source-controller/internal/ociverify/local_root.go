package ociverify

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// The environment variables cosign documents for verifying against a private Sigstore
// without TUF ("Configuring Cosign with Custom Components"). Upstream source-controller
// verifies through cosign's library, which reads them, so a deployment configured for
// upstream keeps working here.
const (
	EnvFulcioRoot  = "SIGSTORE_ROOT_FILE"              // PEM certificates of the Fulcio CA (root, and intermediates)
	EnvRekorKey    = "SIGSTORE_REKOR_PUBLIC_KEY"       // PEM public key(s) of the Rekor log
	EnvCTLogKey    = "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE" // PEM or DER public key(s) of the certificate transparency log
	envTUFCacheDir = "TUF_ROOT"                        // where cosign keeps TUF metadata
)

// LocalRoot is the controller-wide trusted root of a private Sigstore, used by keyless
// verification when the object names none (HelmChart always: its spec.verify has no
// trustedRootSecretRef upstream). It is either a trusted_root.json file
// (--sigstore-trusted-root, our extension, re-read on every verification so a mounted
// ConfigMap or Secret can rotate it) or built once from cosign's environment variables.
type LocalRoot struct {
	file     string
	fromEnv  []byte
	describe string
}

// NewLocalRoot returns the controller's private Sigstore root: the trusted_root.json at
// file when given, else the one cosign's environment variables describe (read with getenv),
// else nil (keyless verification then uses Sigstore's public root through TUF). Every file
// is read now, so a wrong path or content stops the controller at start with the reason.
func NewLocalRoot(file string, getenv func(string) string) (*LocalRoot, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--sigstore-trusted-root: %w", err)
		}
		if _, err := ParseTrustedRoot(data); err != nil {
			return nil, fmt.Errorf("--sigstore-trusted-root %s: %w", file, err)
		}
		return &LocalRoot{file: file, describe: "the trusted root of --sigstore-trusted-root " + file}, nil
	}
	data, err := trustedRootFromEnv(getenv)
	if err != nil || data == nil {
		return nil, err
	}
	return &LocalRoot{fromEnv: data, describe: "the private Sigstore of " + EnvFulcioRoot + "/" + EnvRekorKey}, nil
}

// TrustedRoot returns the trusted_root.json to verify with.
func (l *LocalRoot) TrustedRoot() ([]byte, error) {
	if l.file == "" {
		return l.fromEnv, nil
	}
	data, err := os.ReadFile(l.file)
	if err != nil {
		return nil, fmt.Errorf("failed to read the trusted root of --sigstore-trusted-root: %w", err)
	}
	return data, nil
}

// String names where the root comes from, for messages.
func (l *LocalRoot) String() string { return l.describe }

// TUFCacheDir is cosign's TUF metadata directory ($TUF_ROOT, which upstream's deployment
// points at a writable /tmp/.sigstore), or "" when unset.
func TUFCacheDir(getenv func(string) string) string { return getenv(envTUFCacheDir) }

// trustedRootFromEnv builds a trusted_root.json from cosign's out-of-band variables, or nil
// when none is set. Unlike the cosign CLI, which fetches what is not set from Sigstore's
// public TUF repository, the variables describe the whole private Sigstore: the Fulcio CA
// and the Rekor log are required (the log's entry is the proof of when the short-lived
// certificate signed), the CT log is optional (embedded SCTs are checked when it is given).
func trustedRootFromEnv(getenv func(string) string) ([]byte, error) {
	fulcioFile, rekorFile, ctFile := getenv(EnvFulcioRoot), getenv(EnvRekorKey), getenv(EnvCTLogKey)
	if fulcioFile == "" && rekorFile == "" && ctFile == "" {
		return nil, nil
	}
	if fulcioFile == "" || rekorFile == "" {
		return nil, fmt.Errorf("a private Sigstore needs both %s (the Fulcio CA) and %s (the Rekor log's key); only %s is set",
			EnvFulcioRoot, EnvRekorKey, strings.Join(setOf(getenv, EnvFulcioRoot, EnvRekorKey, EnvCTLogKey), " and "))
	}
	cas, err := fulcioFromFile(fulcioFile)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", EnvFulcioRoot, fulcioFile, err)
	}
	rekor, err := logsFromFile(rekorFile, "https://rekor.invalid")
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", EnvRekorKey, rekorFile, err)
	}
	ct := map[string]*root.TransparencyLog{}
	if ctFile != "" {
		if ct, err = logsFromFile(ctFile, "https://ctlog.invalid"); err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvCTLogKey, ctFile, err)
		}
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, cas, ct, nil, rekor)
	if err != nil {
		return nil, err
	}
	return tr.MarshalJSON()
}

func setOf(getenv func(string) string, names ...string) []string {
	var out []string
	for _, n := range names {
		if getenv(n) != "" {
			out = append(out, n)
		}
	}
	return out
}

// fulcioFromFile reads PEM certificates: each self-signed one is a root of trust, the
// others are intermediates offered with every root (as cosign splits SIGSTORE_ROOT_FILE).
func fulcioFromFile(path string) ([]root.CertificateAuthority, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := cryptoutils.UnmarshalCertificatesFromPEM(data)
	if err != nil {
		return nil, fmt.Errorf("not PEM certificates: %w", err)
	}
	var roots, intermediates []*x509.Certificate
	for _, c := range certs {
		if c.CheckSignatureFrom(c) == nil {
			roots = append(roots, c)
		} else {
			intermediates = append(intermediates, c)
		}
	}
	if len(roots) == 0 {
		return nil, errors.New("no self-signed root certificate")
	}
	var cas []root.CertificateAuthority
	for _, r := range roots {
		cas = append(cas, &root.FulcioCertificateAuthority{Root: r, Intermediates: intermediates,
			ValidityPeriodStart: r.NotBefore, ValidityPeriodEnd: r.NotAfter, URI: "https://fulcio.invalid"})
	}
	return cas, nil
}

// logsFromFile reads the public keys of a log (PEM blocks, or one DER key), each under its
// log ID, the SHA-256 of the DER key, as Rekor and CT logs name themselves.
func logsFromFile(path, baseURL string) (map[string]*root.TransparencyLog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ders [][]byte
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		ders = append(ders, block.Bytes)
	}
	if len(ders) == 0 {
		ders = [][]byte{data}
	}
	logs := map[string]*root.TransparencyLog{}
	for _, der := range ders {
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			return nil, fmt.Errorf("not a PEM or DER public key: %w", err)
		}
		id := sha256.Sum256(der)
		logs[fmt.Sprintf("%x", id)] = &root.TransparencyLog{BaseURL: baseURL, ID: id[:], PublicKey: pub,
			HashFunc: crypto.SHA256, SignatureHashFunc: crypto.SHA256, ValidityPeriodStart: time.Unix(0, 0)}
	}
	return logs, nil
}
