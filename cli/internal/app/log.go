package app

import (
	"io"

	"gotk.dev/cli/pkg/log"
)

// Logger prints progress the way upstream flux does, with its symbols, to stderr.
type Logger = log.Writer

// NewLogger writes to w.
func NewLogger(w io.Writer) *Logger { return log.New(w) }
