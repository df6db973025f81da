package app

import "testing"

// TestEnvsubst substitutes from the process environment (t.Setenv, so not parallel).
func TestEnvsubst(t *testing.T) {
	t.Setenv("FLUX_TEST_REGION", "eu-central-1")
	t.Setenv("FLUX_TEST_EMPTY", "")
	tests := []struct {
		name, in string
		args     []string
		out      string
		err      string
	}{
		{name: "braced variable", in: "region: ${FLUX_TEST_REGION}\n", out: "region: eu-central-1\n"},
		{name: "default", in: "zone: ${FLUX_TEST_UNSET:=a}\n", out: "zone: a\n"},
		{name: "unset is empty", in: "x: '${FLUX_TEST_UNSET}'\n", out: "x: ''\n"},
		{name: "functions", in: "${FLUX_TEST_REGION^^} ${FLUX_TEST_REGION:0:2} ${#FLUX_TEST_REGION}", out: "EU-CENTRAL-1 eu 12"},
		{name: "escape", in: "$${FLUX_TEST_REGION} $HOME", out: "${FLUX_TEST_REGION} $HOME"},
		{name: "no variables", in: "plain text\n", out: "plain text\n"},
		{name: "strict with set and empty variables", in: "${FLUX_TEST_REGION}${FLUX_TEST_EMPTY}", args: []string{"--strict"}, out: "eu-central-1"},
		{name: "strict with a default", in: "${FLUX_TEST_UNSET:-d}", args: []string{"--strict"}, out: "d"},
		{name: "strict fails on unset", in: "${FLUX_TEST_UNSET} ${FLUX_TEST_UNSET2}", args: []string{"--strict"},
			err: "variables 'FLUX_TEST_UNSET', 'FLUX_TEST_UNSET2' have no value and no default"},
		{name: "syntax error", in: "${FLUX TEST}", err: "${FLUX TEST}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runFlux(t, tt.in, append([]string{"envsubst", missingKubeconfig(t)}, tt.args...)...)
			if tt.err != "" {
				if r.code != 1 || r.stdout != "" {
					t.Fatalf("exit %d, stdout %q; want exit 1 and no output", r.code, r.stdout)
				}
				wants(t, "stderr", r.stderr, tt.err)
				return
			}
			if r.code != 0 || r.stdout != tt.out {
				t.Fatalf("exit %d, stdout %q, want %q", r.code, r.stdout, tt.out)
			}
		})
	}
}
