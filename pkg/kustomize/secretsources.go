package kustomize

import (
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
)

// SecretSource is a file a secretGenerator reads: an "envs" (or "env") entry, a dotenv file
// whose lines become the Secret's keys, or a "files" entry, whose content becomes the value of
// Key.
type SecretSource struct {
	// Path is the file, relative to the source root.
	Path string
	// Env marks an envs entry.
	Env bool
	// Key is the Secret key of a files entry ("key=path", or the file's base name).
	Key string
}

// SecretSourceDecrypter decrypts the files secretGenerators read, before kustomize parses
// them (Flux decrypts SOPS-encrypted dotenv and files sources this way). It returns data
// unchanged for a file that is not encrypted. Errors must name the file, never quote it.
type SecretSourceDecrypter interface {
	DecryptSecretSource(src SecretSource, data []byte) ([]byte, error)
}

// DecryptError is a secretGenerator source that could not be decrypted: Build returns it as
// is, so callers can tell it from a build failure.
type DecryptError struct{ Err error }

func (e *DecryptError) Error() string { return e.Err.Error() }
func (e *DecryptError) Unwrap() error { return e.Err }

// noteSecretSources records the files the kustomization's secretGenerators read (by
// resolved path), for ReadFile to hand them to the decrypter. ConfigMap generators are left
// alone: decrypting into a ConfigMap would publish a secret.
func (f *secureFS) noteSecretSources(dir string, gens []types.SecretArgs) {
	if f.decrypter == nil {
		return
	}
	note := func(ref string, src SecretSource) {
		if ref == "" || filepath.IsAbs(ref) || isRemoteRef(ref) {
			return
		}
		r, err := f.resolve(filepath.Join(dir, ref))
		if err != nil {
			return // kustomize fails on it with its own message, or the violation stands
		}
		if !within(f.root, r) {
			// A remote base's file: only the source's own files are decrypted, as upstream
			// does, so a remote base cannot make a Kustomization's keys decrypt it.
			return
		}
		src.Path = f.rel(r)
		f.mu.Lock()
		f.secretSources[r] = src
		f.mu.Unlock()
	}
	for _, g := range gens {
		for _, s := range g.FileSources {
			key, path, ok := strings.Cut(s, "=")
			if !ok {
				key, path = filepath.Base(s), s
			}
			note(path, SecretSource{Key: key})
		}
		for _, e := range append(g.EnvSources, g.EnvSource) {
			note(e, SecretSource{Env: true})
		}
	}
}

// decryptSource passes a secretGenerator source through the decrypter; r is its resolved path.
func (f *secureFS) decryptSource(r string, data []byte) ([]byte, error) {
	f.mu.Lock()
	src, ok := f.secretSources[r]
	f.mu.Unlock()
	if !ok {
		return data, nil
	}
	out, err := f.decrypter.DecryptSecretSource(src, data)
	if err != nil {
		derr := &DecryptError{Err: err}
		f.mu.Lock()
		if f.decryptErr == nil {
			f.decryptErr = derr
		}
		f.mu.Unlock()
		return nil, derr
	}
	return out, nil
}
