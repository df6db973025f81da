package options_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"

	"gotk.dev/pkg/options"
)

// bindAll registers every option set on a fresh flag set, as source-controller does.
func bindAll(t *testing.T) (*pflag.FlagSet, *options.Runtime, *options.Storage, *options.HTTPFetch) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	var rt options.Runtime
	var st options.Storage
	var hf options.HTTPFetch
	rt.BindFlags(fs, 2)
	st.BindFlags(fs)
	hf.BindFlags(fs)
	return fs, &rt, &st, &hf
}

func TestDefaultsMatchUpstream(t *testing.T) {
	for _, key := range []string{"STORAGE_PATH", "STORAGE_ADDR", "STORAGE_ADV_ADDR"} {
		t.Setenv(key, "")
	}
	fs, rt, st, hf := bindAll(t)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flag string
		def  string
	}{
		{"metrics-addr", ":8080"},
		{"health-addr", ":9440"},
		{"events-addr", ""},
		{"concurrent", "2"},
		{"requeue-dependency", "30s"},
		{"enable-leader-election", "false"},
		{"leader-election-lease-duration", "35s"},
		{"leader-election-renew-deadline", "30s"},
		{"leader-election-retry-period", "5s"},
		{"leader-election-release-on-cancel", "true"},
		{"watch-all-namespaces", "true"},
		{"watch-label-selector", ""},
		{"kube-api-qps", "50"},
		{"kube-api-burst", "300"},
		{"kubeconfig", ""},
		{"min-retry-delay", "750ms"},
		{"max-retry-delay", "15m0s"},
		{"interval-jitter-percentage", "5"},
		{"log-level", "info"},
		{"log-encoding", "json"},
		{"feature-gates", ""},
		{"storage-path", "/data"},
		{"storage-addr", ":9090"},
		{"storage-adv-addr", ""},
		{"artifact-retention-ttl", "1m0s"},
		{"artifact-retention-records", "2"},
		{"artifact-digest-algo", "sha256"},
		{"http-retry", "9"},
	} {
		f := fs.Lookup(tc.flag)
		if f == nil {
			t.Errorf("--%s is not registered", tc.flag)
			continue
		}
		if f.DefValue != tc.def {
			t.Errorf("--%s default = %q, want %q", tc.flag, f.DefValue, tc.def)
		}
	}

	// The parsed structs carry the same defaults.
	want := options.Runtime{
		MetricsAddr: ":8080", HealthAddr: ":9440", Concurrent: 2, RequeueDependency: 30 * time.Second,
		LeaderElection: options.LeaderElection{
			LeaseDuration: 35 * time.Second, RenewDeadline: 30 * time.Second, RetryPeriod: 5 * time.Second, ReleaseOnExit: true,
		},
		WatchAllNamespaces: true, KubeAPIQPS: 50, KubeAPIBurst: 300,
		MinRetryDelay: 750 * time.Millisecond, MaxRetryDelay: 15 * time.Minute, IntervalJitterPercentage: 5,
		LogLevel: "info", LogEncoding: "json",
	}
	if rt.FeatureGates != nil {
		t.Errorf("FeatureGates = %v without --feature-gates", rt.FeatureGates)
	}
	if !reflect.DeepEqual(*rt, want) {
		t.Errorf("Runtime defaults =\n%+v\nwant\n%+v", *rt, want)
	}
	if *st != (options.Storage{Path: "/data", Addr: ":9090", RetentionTTL: time.Minute, RetentionRecords: 2, DigestAlgorithm: "sha256"}) {
		t.Errorf("Storage defaults = %+v", *st)
	}
	if hf.Retries != 9 {
		t.Errorf("HTTPFetch.Retries = %d, want 9", hf.Retries)
	}
	if err := rt.Validate(nil); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestStorageEnvironment(t *testing.T) {
	t.Setenv("STORAGE_PATH", "/var/lib/artifacts")
	t.Setenv("STORAGE_ADDR", ":7070")
	t.Setenv("STORAGE_ADV_ADDR", "source-controller.flux-system.svc.cluster.local.")
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	var st options.Storage
	st.BindFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if st.Path != "/var/lib/artifacts" || st.Addr != ":7070" || st.AdvAddr != "source-controller.flux-system.svc.cluster.local." {
		t.Errorf("Storage from the environment = %+v", st)
	}
	// A flag beats the environment.
	if err := fs.Parse([]string{"--storage-addr=:9999"}); err != nil || st.Addr != ":9999" {
		t.Errorf("--storage-addr: %q, %v", st.Addr, err)
	}
}

func TestKubeconfigFlagRegisteredOnce(t *testing.T) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.String("kubeconfig", "", "registered by controller-runtime")
	var rt options.Runtime
	rt.BindFlags(fs, 4) // must not panic on the duplicate name
	if err := fs.Parse([]string{"--concurrent=8"}); err != nil || rt.Concurrent != 8 {
		t.Errorf("--concurrent: %d, %v", rt.Concurrent, err)
	}
}

func TestFeatureGates(t *testing.T) {
	gates := options.Gates{"CacheSecretsAndConfigMaps": {}, "DisableStatusPollerCache": {Default: true}, "OOMWatch": {}}
	known := gates.Defaults()
	for _, tc := range []struct {
		name    string
		args    []string
		want    map[string]bool
		wantErr string
	}{
		{name: "none", args: nil, want: nil},
		{
			name: "one flag", args: []string{"--feature-gates=OOMWatch=true,DisableStatusPollerCache=false"},
			want: map[string]bool{"OOMWatch": true, "DisableStatusPollerCache": false},
		},
		{
			name: "repeated and spaced", args: []string{"--feature-gates", " OOMWatch = true ,", "--feature-gates=CacheSecretsAndConfigMaps=1"},
			want: map[string]bool{"OOMWatch": true, "CacheSecretsAndConfigMaps": true},
		},
		{name: "missing value", args: []string{"--feature-gates=OOMWatch"}, wantErr: `feature gate "OOMWatch"`},
		{name: "bad bool", args: []string{"--feature-gates=OOMWatch=maybe"}, wantErr: "true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			var rt options.Runtime
			rt.BindFlags(fs, 1)
			err := fs.Parse(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "--feature-gates") {
					t.Fatalf("Parse(%q) = %v, want an error about --feature-gates containing %q", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rt.FeatureGates) != len(tc.want) {
				t.Fatalf("FeatureGates = %v, want %v", rt.FeatureGates, tc.want)
			}
			for k, v := range tc.want {
				if got, ok := rt.FeatureGates[k]; !ok || got != v {
					t.Errorf("FeatureGates[%s] = %t, %t; want %t", k, got, ok, v)
				}
			}
			for gate, def := range known {
				want := def
				if v, ok := tc.want[gate]; ok {
					want = v
				}
				if got := rt.Enabled(gates, gate); got != want {
					t.Errorf("Enabled(%s) = %t, want %t", gate, got, want)
				}
			}
			if err := rt.Validate(known); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}

	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	var rt options.Runtime
	rt.BindFlags(fs, 1)
	if err := fs.Parse([]string{"--feature-gates=b=true,a=false"}); err != nil {
		t.Fatal(err)
	}
	if got := fs.Lookup("feature-gates").Value.String(); got != "a=false,b=true" {
		t.Errorf("feature-gates String() = %q, want sorted pairs", got)
	}
}

func TestValidate(t *testing.T) {
	known := map[string]bool{"OOMWatch": false}
	for _, tc := range []struct {
		name     string
		args     []string
		wantFlag string // the flag the error must name; empty: valid
		wantText string
	}{
		{name: "valid", args: []string{"--watch-label-selector=sharding.fluxcd.io/key notin (shard1)", "--log-level=debug", "--log-encoding=console", "--interval-jitter-percentage=99"}},
		{name: "unknown gate", args: []string{"--feature-gates=NoSuchGate=true"}, wantFlag: "--feature-gates", wantText: "NoSuchGate"},
		{name: "bad selector", args: []string{"--watch-label-selector=sharding.fluxcd.io/key in (shard1"}, wantFlag: "--watch-label-selector", wantText: "sharding.fluxcd.io/key in (shard1"},
		{name: "bad selector chars", args: []string{"--watch-label-selector=a=b=c!"}, wantFlag: "--watch-label-selector"},
		{name: "jitter 100", args: []string{"--interval-jitter-percentage=100"}, wantFlag: "--interval-jitter-percentage", wantText: "100"},
		{name: "jitter 255", args: []string{"--interval-jitter-percentage=255"}, wantFlag: "--interval-jitter-percentage"},
		{name: "bad log level", args: []string{"--log-level=verbose"}, wantFlag: "--log-level", wantText: "verbose"},
		{name: "bad log encoding", args: []string{"--log-encoding=xml"}, wantFlag: "--log-encoding", wantText: "xml"},
		{name: "no workers", args: []string{"--concurrent=0"}, wantFlag: "--concurrent"},
		{name: "retry delays crossed", args: []string{"--min-retry-delay=1m", "--max-retry-delay=30s"}, wantFlag: "--min-retry-delay"},
		{name: "zero retry delay", args: []string{"--min-retry-delay=0s"}, wantFlag: "--min-retry-delay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			var rt options.Runtime
			rt.BindFlags(fs, 2)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err := rt.Validate(known)
			if tc.wantFlag == "" {
				if err != nil {
					t.Errorf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantFlag) || !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("Validate = %v, want an error naming %s and %q", err, tc.wantFlag, tc.wantText)
			}
		})
	}
}

func TestLabelSelector(t *testing.T) {
	rt := options.Runtime{}
	sel, err := rt.LabelSelector()
	if err != nil || !sel.Empty() {
		t.Errorf("empty --watch-label-selector: %v, %v; want a selector matching everything", sel, err)
	}
	rt.WatchLabelSelector = "sharding.fluxcd.io/key=shard1"
	sel, err = rt.LabelSelector()
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Matches(labels.Set{"sharding.fluxcd.io/key": "shard1"}) || sel.Matches(labels.Set{"sharding.fluxcd.io/key": "shard2"}) {
		t.Errorf("selector %s matches the wrong shard", sel)
	}
}

func TestRuntimeNamespace(t *testing.T) {
	t.Setenv("RUNTIME_NAMESPACE", "")
	if got := options.RuntimeNamespace(); got != "flux-system" {
		t.Errorf("RuntimeNamespace() = %q, want flux-system", got)
	}
	t.Setenv("RUNTIME_NAMESPACE", "gitops")
	if got := options.RuntimeNamespace(); got != "gitops" {
		t.Errorf("RuntimeNamespace() = %q, want gitops", got)
	}
}
