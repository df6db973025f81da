package repository

import "testing"

// FuzzParseIndex: any input either fails cleanly or normalises to an index that reads back to
// the same revision.
func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(indexYAML))
	f.Add([]byte(reversedIndexYAML))
	f.Add([]byte(`{"apiVersion":"v1","entries":{"a":[{"name":"a","version":"1.0.0","urls":["a.tgz"]}]}}`))
	f.Add([]byte("apiVersion: v1\nentries:\n  a:\n  - null\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := BuildIndex(data, "fuzz")
		if err != nil {
			return
		}
		again, err := BuildIndex(idx.JSON, "stored")
		if err != nil {
			t.Fatalf("the normalised index does not parse: %v\n%s", err, idx.JSON)
		}
		if again.Revision != idx.Revision {
			t.Fatalf("normalisation is not idempotent:\n%s\n---\n%s", idx.JSON, again.JSON)
		}
	})
}
