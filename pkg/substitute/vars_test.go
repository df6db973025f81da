package substitute

import (
	"reflect"
	"strings"
	"testing"
)

func TestVarsPrecedence(t *testing.T) {
	from := []VarSource{
		FromConfigMapData("apps", "first", map[string]string{"A": "cm1", "B": "cm1", "C": "cm1"}),
		FromSecretData("apps", "second", map[string][]byte{"B": []byte("secret2"), "D": []byte("secret2")}),
		FromConfigMapData("apps", "third", map[string]string{"C": "cm3"}),
	}
	got, err := Vars(from, map[string]string{"D": "inline", "E": "inline"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "cm1", "B": "secret2", "C": "cm3", "D": "inline", "E": "inline"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got, err := Vars(nil, nil); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v %v", got, err)
	}
}

func TestVarsInvalidNames(t *testing.T) {
	const secret = "p4ssw0rd"
	tests := []struct {
		name       string
		from       []VarSource
		substitute map[string]string
		want       []string
	}{{
		name:       "inline",
		substitute: map[string]string{"ok": "1", "bad-name": secret, "1st": secret},
		want:       []string{"spec.postBuild.substitute", `"1st", "bad-name"`},
	}, {
		name: "secret",
		from: []VarSource{FromSecretData("apps", "creds", map[string][]byte{"db.password": []byte(secret)})},
		want: []string{"Secret 'apps/creds'", `"db.password"`},
	}, {
		name: "configmap",
		from: []VarSource{FromConfigMapData("apps", "vars", map[string]string{"": "x", "with space": "y"})},
		want: []string{"ConfigMap 'apps/vars'", `"", "with space"`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Vars(tt.from, tt.substitute)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks a value: %q", err)
			}
		})
	}
	for _, ok := range []string{"_", "a", "A_1", "_x9", "ÄB"} {
		_, err := Vars(nil, map[string]string{ok: "v"})
		if (err == nil) != (ok != "ÄB") {
			t.Errorf("%q: err = %v", ok, err)
		}
	}
}
