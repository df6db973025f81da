// Package log prints progress the way upstream flux does, with its symbols (►, ✚, ◎, ✔, ⚠️,
// ✗), one line per message. The flux CLI writes it to stderr; other front ends of the
// bootstrap and install packages (a Terraform provider) give their own Logger.
package log

import (
	"fmt"
	"io"
)

// Logger is what the bootstrap and install packages report progress to.
type Logger interface {
	Actionf(format string, a ...any)
	Generatef(format string, a ...any)
	Waitingf(format string, a ...any)
	Successf(format string, a ...any)
	Warningf(format string, a ...any)
	Failuref(format string, a ...any)
}

// Writer prints each message as a line with its symbol.
type Writer struct{ w io.Writer }

// New writes to w.
func New(w io.Writer) *Writer { return &Writer{w: w} }

// Actionf announces a step: ► ...
func (l *Writer) Actionf(format string, a ...any) { l.line("►", format, a) }

// Generatef announces something generated: ✚ ...
func (l *Writer) Generatef(format string, a ...any) { l.line("✚", format, a) }

// Waitingf announces a wait: ◎ ...
func (l *Writer) Waitingf(format string, a ...any) { l.line("◎", format, a) }

// Successf reports success: ✔ ...
func (l *Writer) Successf(format string, a ...any) { l.line("✔", format, a) }

// Warningf reports a warning: ⚠️ ...
func (l *Writer) Warningf(format string, a ...any) { l.line("⚠️", format, a) }

// Failuref reports a failure: ✗ ...
func (l *Writer) Failuref(format string, a ...any) { l.line("✗", format, a) }

func (l *Writer) line(symbol, format string, a []any) {
	fmt.Fprintf(l.w, "%s %s\n", symbol, fmt.Sprintf(format, a...))
}

// Discard drops every message.
type Discard struct{}

func (Discard) Actionf(string, ...any)   {}
func (Discard) Generatef(string, ...any) {}
func (Discard) Waitingf(string, ...any)  {}
func (Discard) Successf(string, ...any)  {}
func (Discard) Warningf(string, ...any)  {}
func (Discard) Failuref(string, ...any)  {}
