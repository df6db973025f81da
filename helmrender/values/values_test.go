package values

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
)

// objects is a Getter over in-memory ConfigMaps and Secrets ("Kind/name" -> data).
type objects map[string]map[string][]byte

func (o objects) get(_ context.Context, kind, name string) (map[string][]byte, error) {
	data, ok := o[kind+"/"+name]
	if !ok {
		return nil, fmt.Errorf("%s %q: %w", kind, name, ErrNotFound)
	}
	return data, nil
}

func TestCompose(t *testing.T) {
	objs := objects{
		"ConfigMap/base":  {"values.yaml": []byte("flat: value\nnested:\n  configuration: value\nlist: [a, b]\n")},
		"Secret/override": {"values.yaml": []byte("flat:\n  nested: value\nnested: value\n")},
		"Secret/single":   {"key": []byte("value"), "quoted": []byte(`"true"`), "bool": []byte("true"), "blob": []byte("a,b=c[0]")},
		"ConfigMap/list":  {"values.yaml": []byte("nested:\n  configuration:\n  - one\n  - two\n  - three\nflat: value\n")},
		"ConfigMap/bad":   {"values.yaml": []byte("a: b\n  c: d\n")},
		"ConfigMap/other": {"custom.yaml": []byte("replicaCount: 3\n")},
		"Secret/empty":    nil,
	}
	tests := []struct {
		name    string
		refs    []meta.ValuesReference
		inline  string
		want    map[string]interface{}
		wantErr string
	}{
		{
			name:   "references merge in order, inline last",
			refs:   []meta.ValuesReference{{Kind: "ConfigMap", Name: "base"}, {Kind: "Secret", Name: "override"}},
			inline: "other: values\nlist: [c]\n",
			want: map[string]interface{}{
				"flat": map[string]interface{}{"nested": "value"}, "nested": "value",
				"other": "values", "list": []interface{}{"c"},
			},
		},
		{
			name: "valuesKey",
			refs: []meta.ValuesReference{{Kind: "ConfigMap", Name: "other", ValuesKey: "custom.yaml"}},
			want: map[string]interface{}{"replicaCount": float64(3)},
		},
		{
			name: "targetPath",
			refs: []meta.ValuesReference{{Kind: "Secret", Name: "single", ValuesKey: "key", TargetPath: "merge.at.specific.path"}},
			want: map[string]interface{}{"merge": map[string]interface{}{"at": map[string]interface{}{"specific": map[string]interface{}{"path": "value"}}}},
		},
		{
			name:   "targetPath wins over inline values and later references",
			refs:   []meta.ValuesReference{{Kind: "Secret", Name: "single", ValuesKey: "key", TargetPath: "nested.configuration[0]"}, {Kind: "ConfigMap", Name: "list"}},
			inline: "nested:\n  configuration: [list, item, option]\n",
			want: map[string]interface{}{
				"flat":   "value",
				"nested": map[string]interface{}{"configuration": []interface{}{"value", "item", "option"}},
			},
		},
		{
			name: "targetPath types a value as --set does; quotes make a string",
			refs: []meta.ValuesReference{
				{Kind: "Secret", Name: "single", ValuesKey: "bool", TargetPath: "a"},
				{Kind: "Secret", Name: "single", ValuesKey: "quoted", TargetPath: "b"},
			},
			want: map[string]interface{}{"a": true, "b": "true"},
		},
		{
			name: "literal targetPath keeps --set syntax verbatim",
			refs: []meta.ValuesReference{{Kind: "Secret", Name: "single", ValuesKey: "blob", TargetPath: "cfg.app", Literal: true}},
			want: map[string]interface{}{"cfg": map[string]interface{}{"app": "a,b=c[0]"}},
		},
		{
			name:   "missing optional Secret is skipped",
			refs:   []meta.ValuesReference{{Kind: "Secret", Name: "missing", Optional: true}},
			inline: "a: 1\n",
			want:   map[string]interface{}{"a": float64(1)},
		},
		{
			name: "missing optional key is skipped",
			refs: []meta.ValuesReference{{Kind: "ConfigMap", Name: "base", ValuesKey: "nope", Optional: true}},
			want: map[string]interface{}{},
		},
		{
			name:    "missing Secret",
			refs:    []meta.ValuesReference{{Kind: "ConfigMap", Name: "base"}, {Kind: "Secret", Name: "missing"}},
			wantErr: "spec.valuesFrom[1]: Secret 'apps/missing': not found",
		},
		{
			name:    "empty Secret has no key",
			refs:    []meta.ValuesReference{{Kind: "Secret", Name: "empty"}},
			wantErr: "spec.valuesFrom[0]: Secret 'apps/empty' key 'values.yaml': key not found",
		},
		{
			name:    "missing key",
			refs:    []meta.ValuesReference{{Kind: "ConfigMap", Name: "base", ValuesKey: "prod.yaml"}},
			wantErr: "spec.valuesFrom[0]: ConfigMap 'apps/base' key 'prod.yaml': key not found",
		},
		{
			name:    "malformed values name the line",
			refs:    []meta.ValuesReference{{Kind: "ConfigMap", Name: "bad"}},
			wantErr: "spec.valuesFrom[0]: ConfigMap 'apps/bad' key 'values.yaml': invalid values: error converting YAML to JSON: yaml: line 2",
		},
		{
			name:    "unsupported kind",
			refs:    []meta.ValuesReference{{Kind: "Deployment", Name: "x"}},
			wantErr: "spec.valuesFrom[0]: Deployment 'apps/x' key 'values.yaml': unsupported kind",
		},
		{
			name:    "bad targetPath",
			refs:    []meta.ValuesReference{{Kind: "Secret", Name: "single", ValuesKey: "key", TargetPath: "a[x]"}},
			wantErr: "spec.valuesFrom[0]: Secret 'apps/single' key 'key': invalid targetPath",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inline := map[string]interface{}{}
			if tt.inline != "" {
				var err error
				if inline, err = readValues([]byte(tt.inline)); err != nil {
					t.Fatal(err)
				}
			}
			before := fmt.Sprint(inline)
			got, err := Compose(context.Background(), objs.get, "apps", tt.refs, inline)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want prefix %q", err, tt.wantErr)
				}
				var re *ReferenceError
				if !errors.As(err, &re) {
					t.Fatalf("error %T is not a *ReferenceError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(map[string]interface{}(got), tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
			if after := fmt.Sprint(inline); after != before {
				t.Errorf("inline values were modified: %s -> %s", before, after)
			}
		})
	}
}

func TestComposeReadErrorIsNotSkipped(t *testing.T) {
	boom := errors.New("connection refused")
	get := func(context.Context, string, string) (map[string][]byte, error) { return nil, boom }
	_, err := Compose(context.Background(), get, "apps", []meta.ValuesReference{{Kind: "Secret", Name: "s", Optional: true}}, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("a transient error of an optional reference must fail, got %v", err)
	}
}

func TestSecretValuesNeverInErrors(t *testing.T) {
	objs := objects{"Secret/s": {"values.yaml": []byte("password: hunter2\n  bad: indent\n")}}
	_, err := Compose(context.Background(), objs.get, "apps", []meta.ValuesReference{{Kind: "Secret", Name: "s"}}, nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error must exist and not contain the secret: %v", err)
	}
}
