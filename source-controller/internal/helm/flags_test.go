package helm

import (
	"testing"

	"github.com/spf13/pflag"
)

func TestLimitsFlags(t *testing.T) {
	var l Limits
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	l.BindFlags(fs)
	if err := fs.Parse([]string{"--helm-chart-max-size=1024"}); err != nil {
		t.Fatal(err)
	}
	want := Limits{MaxIndexSize: 50 << 20, MaxChartSize: 1024, MaxChartFileSize: 5 << 20}
	if l != want {
		t.Fatalf("limits = %+v, want %+v", l, want)
	}
	if got := (Limits{}).WithDefaults(); got.MaxDecompressedChartSize != DefaultMaxDecompressedChartSize || got.MaxIndexSize != DefaultMaxIndexSize {
		t.Fatalf("defaults = %+v", got)
	}
	e := &LimitError{What: "index x", Limit: 10, Flag: FlagMaxIndexSize}
	if e.Error() != "index x exceeds the maximum size of 10 bytes (--helm-index-max-size)" {
		t.Fatalf("message = %q", e.Error())
	}
}
