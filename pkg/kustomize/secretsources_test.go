package kustomize

import (
	"errors"
	"strings"
	"testing"
)

// rot13Sources "decrypts" by ROT13 and records what it was asked for: enough to see which
// reads pass through the hook, and that the build cache keeps differently keyed builds apart.
type rot13Sources struct {
	asked []SecretSource
	fail  bool
}

func (r *rot13Sources) DecryptSecretSource(src SecretSource, data []byte) ([]byte, error) {
	r.asked = append(r.asked, src)
	if r.fail {
		return nil, errors.New("file '" + src.Path + "' does not decrypt")
	}
	out := []byte(strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z':
			return 'a' + (c-'a'+13)%26
		case c >= 'A' && c <= 'Z':
			return 'A' + (c-'A'+13)%26
		}
		return c
	}, string(data)))
	return out, nil
}

// TestSecretSources: secretGenerator envs and files sources (and only those: not ConfigMap
// generator sources, not the kustomization) go through SecretSources, with their Secret key;
// a failure is a *DecryptError; builds with another SecretSourcesID are not served from the
// cache.
func TestSecretSources(t *testing.T) {
	root := writeTree(t, map[string]string{
		"app/kustomization.yaml": `secretGenerator:
- name: s
  envs: [secret.env]
  files: [cfg.json=cfg.enc, token]
configMapGenerator:
- name: c
  envs: [plain.env]
generatorOptions:
  disableNameSuffixHash: true
`,
		"app/secret.env": "XRL=inyhr\n",
		"app/cfg.enc":    "{}",
		"app/token":      "gbxra",
		"app/plain.env":  "KEY=value\n",
	})
	dec := &rot13Sources{}
	b := NewBuilder(4)
	objs, err := b.Build("sha256:one", root, "app", Options{SecretSources: dec, SecretSourcesID: "keys-a"})
	if err != nil {
		t.Fatal(err)
	}
	if got := nested(t, find(t, objs, "Secret", "s"), "data", "KEY"); got != "dmFsdWU=" { // "value"
		t.Errorf("Secret s KEY = %q", got)
	}
	if got := nested(t, find(t, objs, "ConfigMap", "c"), "data", "KEY"); got != "value" {
		t.Errorf("ConfigMap c KEY = %q", got)
	}
	want := []SecretSource{{Path: "app/cfg.enc", Key: "cfg.json"}, {Path: "app/token", Key: "token"}, {Path: "app/secret.env", Env: true}}
	if len(dec.asked) != len(want) {
		t.Fatalf("asked for %+v, want %+v", dec.asked, want)
	}
	for _, w := range want {
		found := false
		for _, a := range dec.asked {
			found = found || a == w
		}
		if !found {
			t.Errorf("not asked for %+v (asked %+v)", w, dec.asked)
		}
	}

	other := &rot13Sources{fail: true}
	_, err = b.Build("sha256:one", root, "app", Options{SecretSources: other, SecretSourcesID: "keys-b"})
	var derr *DecryptError
	if !errors.As(err, &derr) || !strings.Contains(err.Error(), "file 'app/") {
		t.Fatalf("error %v, want a DecryptError naming the file", err)
	}
	if _, err := b.Build("sha256:one", root, "app", Options{SecretSources: other, SecretSourcesID: "keys-a"}); err != nil {
		t.Fatalf("same keys were not served from the cache: %v", err)
	}
}
