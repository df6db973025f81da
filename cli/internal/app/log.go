package app

import (
	"fmt"
	"io"
)

// Logger prints progress the way upstream flux does, with its symbols, to stderr.
type Logger struct{ w io.Writer }

// NewLogger writes to w.
func NewLogger(w io.Writer) *Logger { return &Logger{w: w} }

// Actionf announces a step: ► ...
func (l *Logger) Actionf(format string, a ...any) {
	fmt.Fprintf(l.w, "► %s\n", fmt.Sprintf(format, a...))
}

// Generatef announces something generated: ✚ ...
func (l *Logger) Generatef(format string, a ...any) {
	fmt.Fprintf(l.w, "✚ %s\n", fmt.Sprintf(format, a...))
}

// Waitingf announces a wait: ◎ ...
func (l *Logger) Waitingf(format string, a ...any) {
	fmt.Fprintf(l.w, "◎ %s\n", fmt.Sprintf(format, a...))
}

// Successf reports success: ✔ ...
func (l *Logger) Successf(format string, a ...any) {
	fmt.Fprintf(l.w, "✔ %s\n", fmt.Sprintf(format, a...))
}

// Warningf reports a warning: ⚠️ ...
func (l *Logger) Warningf(format string, a ...any) {
	fmt.Fprintf(l.w, "⚠️ %s\n", fmt.Sprintf(format, a...))
}

// Failuref reports a failure: ✗ ...
func (l *Logger) Failuref(format string, a ...any) {
	fmt.Fprintf(l.w, "✗ %s\n", fmt.Sprintf(format, a...))
}
