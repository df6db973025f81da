package decrypt

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/getsops/sops/v3/keys"
	"sigs.k8s.io/yaml"
)

// TestMetadataVariants edits the metadata of sops-encrypted documents in
// ways sops still reads (weak typing, case-insensitive names, single keys
// for lists, unflattening) or refuses, and checks the package agrees.
func TestMetadataVariants(t *testing.T) {
	id, mk := ageKey(t)
	_, other := ageKey(t)
	d, err := NewDecryptor(map[string][]byte{"k.agekey": []byte(id.String())})
	if err != nil {
		t.Fatal(err)
	}
	// One key, so that re-encoding the document keeps the MAC's order.
	enc := encrypt(t, "one.yaml", []byte("password: hunter2\n"), "", mk)
	var doc map[string]any
	if err := yaml.Unmarshal(enc, &doc); err != nil {
		t.Fatal(err)
	}
	ageKeys := doc["sops"].(map[string]any)["age"]
	otherKey := map[string]any{"recipient": other.Recipient, "enc": other.Recipient}
	validDate := "2024-01-02T03:04:05Z"

	tests := []struct {
		name string
		edit func(md map[string]any)
		ok   bool
	}{
		{"unchanged", func(md map[string]any) {}, true},
		{"MAC spelled in capitals", func(md map[string]any) { md["MAC"] = md["mac"]; delete(md, "mac") }, true},
		{"version as a number", func(md map[string]any) { md["version"] = 3.7 }, true},
		{"version as a boolean", func(md map[string]any) { md["version"] = true }, true},
		{"version as a list", func(md map[string]any) { md["version"] = []any{"3"} }, false},
		{"no version, no mac", func(md map[string]any) { delete(md, "version"); delete(md, "mac") }, false},
		{"shamir_threshold as text", func(md map[string]any) { md["shamir_threshold"] = "0x1" }, true},
		{"shamir_threshold not a number", func(md map[string]any) { md["shamir_threshold"] = "many" }, false},
		{"shamir_threshold a fraction", func(md map[string]any) { md["shamir_threshold"] = 2.7 }, true},
		{"mac_only_encrypted as empty text", func(md map[string]any) { md["mac_only_encrypted"] = "" }, true},
		{"mac_only_encrypted as 1", func(md map[string]any) { md["mac_only_encrypted"] = 1 }, false},
		{"mac_only_encrypted not a boolean", func(md map[string]any) { md["mac_only_encrypted"] = "yes" }, false},
		{"two encryption rules", func(md map[string]any) { md["encrypted_regex"] = "^password$" }, false},
		{"no rule: default suffix", func(md map[string]any) { delete(md, "unencrypted_suffix") }, true},
		{"rule as a number", func(md map[string]any) { md["unencrypted_suffix"] = 5 }, true},
		{"lastmodified with fractional seconds", func(md map[string]any) {
			md["lastmodified"] = strings.Replace(md["lastmodified"].(string), "Z", ".123456Z", 1)
		}, true},
		{"lastmodified not a date", func(md map[string]any) { md["lastmodified"] = "yesterday" }, false},
		{"lastmodified a number", func(md map[string]any) { md["lastmodified"] = 20240101 }, false},
		{"age key not in a list", func(md map[string]any) { md["age"] = ageKeys.([]any)[0] }, true},
		{"age key with a field it does not have", func(md map[string]any) {
			k := ageKeys.([]any)[0].(map[string]any)
			md["age"] = []any{map[string]any{"recipient": k["recipient"], "enc": k["enc"], "created_at": []any{1}}}
		}, true},
		{"age key with a field of the wrong type", func(md map[string]any) {
			k := ageKeys.([]any)[0].(map[string]any)
			md["age"] = []any{map[string]any{"recipient": []any{1}, "enc": k["enc"]}}
		}, false},
		{"age keys empty, key_groups of one", func(md map[string]any) {
			md["key_groups"] = []any{map[string]any{"age": ageKeys}}
			delete(md, "age")
		}, true},
		{"top-level keys win over key_groups", func(md map[string]any) {
			md["key_groups"] = []any{map[string]any{"pgp": []any{map[string]any{"fp": "X", "created_at": "bad"}}}}
		}, true},
		{"same share twice", func(md map[string]any) {
			md["key_groups"] = []any{map[string]any{"age": ageKeys}, map[string]any{"age": ageKeys}}
			delete(md, "age")
		}, false},
		{"key list of text", func(md map[string]any) { md["age"] = "age1xyz" }, false},
		{"no keys", func(md map[string]any) { delete(md, "age") }, false},
		{"unsupported and unknown keys beside", func(md map[string]any) {
			md["kms"] = []any{map[string]any{"arn": "arn:aws:kms:eu-west-1:1:key/a", "created_at": validDate, "enc": "AQI=", "context": map[string]any{"b": "2", "a": 1}}}
			md["gcp_kms"] = []any{map[string]any{"resource_id": "projects/p/keys/k", "created_at": validDate, "enc": "x"}}
			md["azure_kv"] = []any{map[string]any{"vault_url": "https://v", "name": "n", "version": "1", "created_at": validDate, "enc": "x"}}
			md["hc_vault"] = []any{map[string]any{"vault_address": "https://v", "engine_path": "t", "key_name": "k", "created_at": validDate, "enc": "x"}}
			md["hckms"] = []any{map[string]any{"key_id": "eu:uuid", "created_at": validDate, "enc": "x"}}
			md["age"] = append([]any{otherKey}, ageKeys.([]any)...)
			md["future_field"] = map[string]any{"x": 1}
		}, true},
		{"kms key without a date", func(md map[string]any) {
			md["kms"] = []any{map[string]any{"arn": "arn:aws:kms:eu-west-1:1:key/a", "enc": "AQI="}}
		}, false},
		{"hckms key id without a region", func(md map[string]any) {
			md["hckms"] = []any{map[string]any{"key_id": "uuid", "created_at": validDate}}
		}, false},
		{"pgp key with a bad date", func(md map[string]any) {
			md["pgp"] = []any{map[string]any{"fp": "ABCD", "created_at": "2024", "enc": "x"}}
		}, false},
		{"metadata not a mapping", func(md map[string]any) {
			for k := range md {
				delete(md, k)
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c map[string]any
			b, _ := json.Marshal(doc)
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			tt.edit(c["sops"].(map[string]any))
			j, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"x.json", "x.yaml"} {
				_, err = assertMatchesSOPS(t, d, name, j)
				if (err == nil) != tt.ok {
					t.Fatalf("%s: error %v, want success %v", name, err, tt.ok)
				}
				if err != nil {
					assertNoLeak(t, err.Error(), "hunter2", id.String())
				}
			}
		})
	}
}

// TestFlattenedMetadataVariants edits the flattened metadata of a dotenv
// file.
func TestFlattenedMetadataVariants(t *testing.T) {
	id1, mk1 := ageKey(t)
	id2, mk2 := ageKey(t)
	d, err := NewDecryptor(map[string][]byte{"1.agekey": []byte(id1.String()), "2.agekey": []byte(id2.String())})
	if err != nil {
		t.Fatal(err)
	}
	enc := string(encryptDoc(t, "a.env", []byte("A=hunter2\nB=2\n"), encOpts{groups: [][]keys.MasterKey{{mk1}, {mk2}}, threshold: 2}))
	line := func(prefix string) string {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(prefix) + `.*$`).FindString(enc)
		if m == "" {
			t.Fatalf("no %q line in\n%s", prefix, enc)
		}
		return m
	}
	threshold := line("sops_shamir_threshold=")
	recipient := line("sops_key_groups__list_1__map_age__list_0__map_recipient=")
	tests := []struct {
		name, doc string
		ok        bool
	}{
		{"unchanged", enc, true},
		{"metadata lines reversed", reverseMetadata(enc), true},
		{"threshold in hex", strings.Replace(enc, threshold, "sops_shamir_threshold=0x2", 1), true},
		{"threshold too high", strings.Replace(enc, threshold, "sops_shamir_threshold=3", 1), false},
		{"a key twice", enc + recipient + "\n", false},
		{"a list with a gap", enc + "sops_key_groups__list_3__map_age__list_0__map_recipient=x\n", false},
		{"a value that is also a mapping", enc + "sops_version__map_x=1\n", false},
		{"a list index that is not a number", enc + "sops_key_groups__list_x__map_age__list_0__map_recipient=x\n", false},
		{"a metadata comment", strings.Replace(enc, threshold, "#sops_note\n"+threshold, 1), true},
		{"no metadata", regexp.MustCompile(`(?m)^sops_.*\n`).ReplaceAllString(enc, ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name != "unchanged" && tt.doc == enc {
				t.Fatal("the document was not changed")
			}
			_, err := assertMatchesSOPS(t, d, "a.env", []byte(tt.doc))
			if (err == nil) != tt.ok {
				t.Fatalf("error %v, want success %v", err, tt.ok)
			}
		})
	}
}

// reverseMetadata reverses the order of a dotenv document's sops_ lines.
func reverseMetadata(doc string) string {
	var data, md []string
	for _, l := range strings.Split(strings.TrimSuffix(doc, "\n"), "\n") {
		if strings.HasPrefix(l, "sops_") {
			md = append([]string{l}, md...)
		} else {
			data = append(data, l)
		}
	}
	return strings.Join(append(data, md...), "\n") + "\n"
}
