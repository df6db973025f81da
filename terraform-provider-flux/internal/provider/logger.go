package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// tfLogger sends bootstrap's progress lines to Terraform's log (TF_LOG=INFO shows them),
// with the symbols the flux CLI prints.
type tfLogger struct{ ctx context.Context }

func (l tfLogger) line(symbol, format string, a []any) {
	tflog.Info(l.ctx, symbol+" "+fmt.Sprintf(format, a...))
}

func (l tfLogger) Actionf(format string, a ...any)   { l.line("►", format, a) }
func (l tfLogger) Generatef(format string, a ...any) { l.line("✚", format, a) }
func (l tfLogger) Waitingf(format string, a ...any)  { l.line("◎", format, a) }
func (l tfLogger) Successf(format string, a ...any)  { l.line("✔", format, a) }
func (l tfLogger) Warningf(format string, a ...any)  { l.line("⚠️", format, a) }
func (l tfLogger) Failuref(format string, a ...any)  { l.line("✗", format, a) }
