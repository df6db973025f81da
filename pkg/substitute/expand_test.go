package substitute

import (
	"errors"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{
		"NAME":   "podinfo",
		"EMPTY":  "",
		"PODS":   "3",
		"MIXED":  "hELLO wORLD",
		"PATH_":  "/usr/local/bin/tool.tar.gz",
		"UNI":    "héllo",
		"_under": "u",
		"A1":     "a1",
	}
	tests := []struct {
		in, want string
	}{
		{"no dollar", "no dollar"},
		{"", ""},
		{"${NAME}", "podinfo"},
		{"app-${NAME}-x", "app-podinfo-x"},
		{"${NAME}${PODS}", "podinfo3"},
		{"${_under}${A1}", "ua1"},
		{"${UNSET}", ""},
		// Plain $var, lone and doubled dollars are text.
		{"$NAME", "$NAME"},
		{"$ $$ $", "$ $$ $"},
		{"a$", "a$"},
		{"cost: 5$", "cost: 5$"},
		{"$(NAME)", "$(NAME)"},
		// Escapes.
		{"$${NAME}", "${NAME}"},
		{"$${", "${"},
		{"$$${NAME}", "$${NAME}"},
		{"$$$${NAME}", "$$${NAME}"},
		{"$${NAME}${NAME}", "${NAME}podinfo"},
		{"echo $${HOME:-/root}", "echo ${HOME:-/root}"},
		// Defaults: unset and empty both take the default.
		{"${UNSET:=def}", "def"},
		{"${UNSET:-def}", "def"},
		{"${UNSET=def}", "def"},
		{"${UNSET-def}", "def"},
		{"${EMPTY:=def}", "def"},
		{"${EMPTY=def}", "def"},
		{"${NAME:=def}", "podinfo"},
		{"${PODS:=0}", "3"},
		{"${UNSET:=}", ""},
		{"${UNSET:=a b: c}", "a b: c"},
		{"${UNSET:=${NAME}}", "podinfo"},
		{"${UNSET:=x-${UNSET2:=y}-z}", "x-y-z"},
		{"${UNSET:=$${NAME}}", "${NAME}"},
		{"${UNSET:=a:b=c-d}", "a:b=c-d"},
		// Length.
		{"${#NAME}", "7"},
		{"${#UNI}", "5"},
		{"${#UNSET}", "0"},
		// Case.
		{"${MIXED^}", "HELLO wORLD"},
		{"${MIXED^^}", "HELLO WORLD"},
		{"${MIXED,}", "hELLO wORLD"},
		{"${MIXED,,}", "hello world"},
		{"${UNI^}", "Héllo"},
		{"${EMPTY^^}", ""},
		// Substrings.
		{"${NAME:3}", "info"},
		{"${NAME:0:3}", "pod"},
		{"${NAME:3:2}", "in"},
		{"${NAME: -4}", "info"},
		{"${NAME: -4:2}", "in"},
		{"${NAME:1:-1}", "odinf"},
		{"${NAME:100}", ""},
		{"${NAME:2:100}", "dinfo"},
		{"${NAME: -100}", "podinfo"},
		{"${NAME:5:-4}", ""},
		{"${UNI:1:3}", "éll"},
		// Prefix and suffix removal with patterns.
		{"${PATH_#*/}", "usr/local/bin/tool.tar.gz"},
		{"${PATH_##/*/}", "local/bin/tool.tar.gz"}, // '*' does not match '/'
		{"${PATH_%.*}", "/usr/local/bin/tool.tar"},
		{"${PATH_%%.*}", "/usr/local/bin/tool"},
		{"${NAME#pod}", "info"},
		{"${NAME#nope}", "podinfo"},
		{"${NAME%info}", "pod"},
		{"${NAME#p?d}", "info"},
		{"${NAME##*}", ""},
		{"${NAME#*}", "podinfo"},
		{"${NAME%%*}", ""},
		{"${NAME%*}", "podinfo"},
		{"${NAME#${PODS}}", "podinfo"},
		// Replacement of literal strings.
		{"${NAME/o/0}", "p0dinfo"},
		{"${NAME//o/0}", "p0dinf0"},
		{"${NAME/#pod/web}", "webinfo"},
		{"${NAME/#info/x}", "podinfo"},
		{"${NAME/%info/cast}", "podcast"},
		{"${NAME/o}", "pdinfo"},
		{"${NAME//o}", "pdinf"},
		{"${NAME//*/x}", "podinfo"}, // literal, not a pattern
		{"${NAME/o/${PODS}}", "p3dinfo"},
		{"${NAME//}", "podinfo"},
		{"${NAME/o/b/c}", "pb/cdinfo"}, // the replacement runs to the '}'
		{"${UNSET/o/x}", ""},
		// YAML-looking context is just text.
		{"replicas: ${PODS:=0}\nname: ${NAME}", "replicas: 3\nname: podinfo"},
	}
	for _, tt := range tests {
		got, err := Expand(tt.in, vars, Options{})
		if err != nil {
			t.Errorf("Expand(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExpandStrict(t *testing.T) {
	vars := map[string]string{"SET": "v", "EMPTY": ""}
	tests := []struct {
		in      string
		want    string
		missing []string
	}{
		{in: "${SET}", want: "v"},
		{in: "${EMPTY}", want: ""}, // set to "" is set
		{in: "${UNSET:=d}", want: "d"},
		{in: "${UNSET-d}", want: "d"},
		{in: "${SET:=${UNSET}}", want: "v"}, // default not evaluated
		{in: "$${UNSET}", want: "${UNSET}"},
		{in: "${UNSET}", missing: []string{"UNSET"}},
		{in: "${A} ${B} ${A}", missing: []string{"A", "B"}},
		{in: "${UNSET:=${INNER}}", missing: []string{"INNER"}},
		{in: "${#UNSET}", missing: []string{"UNSET"}},
		{in: "${UNSET^^}", missing: []string{"UNSET"}},
		{in: "${UNSET:1}", missing: []string{"UNSET"}},
		{in: "${UNSET/a/b}", missing: []string{"UNSET"}},
		{in: "${SET/a/${UNSET}}", missing: []string{"UNSET"}},
	}
	for _, tt := range tests {
		got, err := Expand(tt.in, vars, Options{Strict: true})
		if tt.missing == nil {
			if err != nil || got != tt.want {
				t.Errorf("Expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		var ue *UnsetError
		if !errors.As(err, &ue) {
			t.Errorf("Expand(%q): err = %v, want *UnsetError", tt.in, err)
			continue
		}
		if strings.Join(ue.Names, ",") != strings.Join(tt.missing, ",") {
			t.Errorf("Expand(%q): missing %v, want %v", tt.in, ue.Names, tt.missing)
		}
		for _, n := range tt.missing {
			if !strings.Contains(err.Error(), "'"+n+"'") || !strings.Contains(err.Error(), "no default") {
				t.Errorf("Expand(%q): error %q does not name %s", tt.in, err, n)
			}
		}
	}
}

func TestExpandSyntaxErrors(t *testing.T) {
	tests := []struct {
		in, expr, msg string
	}{
		{"${", "${", "missing closing"},
		{"x ${NAME", "${NAME", "missing closing"},
		{"${NAME:=abc", "${NAME:=abc", "missing closing"},
		{"${}", "${}", "expected a variable name"},
		{"${ NAME}", "${ NAME}", "expected a variable name"},
		{"${1abc}", "${1abc}", "expected a variable name"},
		{"${{ github.token }}", "${{ github.token }", "expected a variable name"},
		{"${a.b}", "${a.b}", "unexpected '.'"},
		{"${NAME }", "${NAME }", "unexpected ' '"},
		{"${NAME^x}", "${NAME^x}", "expected '}'"},
		{"${#}", "${#}", "expected a variable name"},
		{"${#NAME:1}", "${#NAME:1}", "expected '}'"},
		{"${NAME:x}", "${NAME:x}", "not an integer"},
		{"${NAME:1:y}", "${NAME:1:y}", "not an integer"},
		{"${NAME:}", "${NAME:}", "not an integer"},
		{"${A:=${B}", "${A:=${B}", "missing closing"},
	}
	vars := map[string]string{"NAME": "podinfo"}
	for _, tt := range tests {
		_, err := Expand(tt.in, vars, Options{})
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Expand(%q): err = %v, want *SyntaxError", tt.in, err)
			continue
		}
		if se.Expr != tt.expr || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("Expand(%q): %q / %q, want %q / %q", tt.in, se.Expr, se.Msg, tt.expr, tt.msg)
		}
		if !strings.Contains(err.Error(), "$${") {
			t.Errorf("Expand(%q): error %q does not mention the escape", tt.in, err)
		}
	}
}

func TestExpandDepthLimit(t *testing.T) {
	s := strings.Repeat("${A:=", 100) + "x" + strings.Repeat("}", 100)
	_, err := Expand(s, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("err = %v", err)
	}
	s = strings.Repeat("${A:=", 20) + "x" + strings.Repeat("}", 20)
	if got, err := Expand(s, nil, Options{}); err != nil || got != "x" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestSnippetTruncates(t *testing.T) {
	long := "${" + strings.Repeat("é", 60)
	_, err := Expand(long, nil, Options{})
	var se *SyntaxError
	if !errors.As(err, &se) || len(se.Expr) > 52 || !strings.HasSuffix(se.Expr, "...") {
		t.Fatalf("err = %#v", err)
	}
}

func TestTrimErrors(t *testing.T) {
	_, err := Expand("${NAME#[}", map[string]string{"NAME": "x"}, Options{})
	if err == nil || !strings.Contains(err.Error(), `"${NAME#[}"`) || !strings.Contains(err.Error(), "invalid pattern") {
		t.Fatalf("err = %v", err)
	}
}

func TestTrimLimit(t *testing.T) {
	long := strings.Repeat("a", maxTrimLen+1)
	vars := map[string]string{"X": long}
	if _, err := Expand("${X##*b}", vars, Options{}); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("err = %v", err)
	}
	// Literal patterns have no limit.
	if got, err := Expand("${X#a}", vars, Options{}); err != nil || len(got) != maxTrimLen {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
}
