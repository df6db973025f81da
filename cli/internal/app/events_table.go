package app

import (
	"io"
	"strings"
	"unicode/utf8"
)

// writeTabTable prints rows the way upstream flux's table printer does, so scripts that cut
// or awk its output keep working: upper-case headers, every cell left-aligned and padded to
// its column's width, and each cell (the last one too) followed by a tab. A cell with
// several lines (an event listing the objects it changed) continues on the next lines, the
// other columns left blank.
func writeTabTable(w io.Writer, header []string, rows [][]string) error {
	widths := make([]int, len(header))
	upper := make([]string, len(header))
	for i, h := range header {
		upper[i] = strings.ToUpper(h)
	}
	all := append([][]string{upper}, rows...)
	for _, r := range all {
		for i, c := range r {
			if i >= len(widths) {
				break
			}
			for _, l := range strings.Split(c, "\n") {
				widths[i] = max(widths[i], utf8.RuneCountInString(l))
			}
		}
	}
	var b strings.Builder
	for _, r := range all {
		writeTableRow(&b, widths, r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// tabRow prints one row of a streamed table (flux events --watch): later rows are unknown,
// so cells are not padded, only followed by tabs.
func tabRow(w io.Writer, cells []string) error {
	var b strings.Builder
	writeTableRow(&b, make([]int, len(cells)), cells)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTableRow writes the lines of one row, each cell padded to its width.
func writeTableRow(b *strings.Builder, widths []int, cells []string) {
	split := make([][]string, len(widths))
	height := 1
	for i := range widths {
		if i < len(cells) {
			split[i] = strings.Split(cells[i], "\n")
		}
		height = max(height, len(split[i]))
	}
	for line := 0; line < height; line++ {
		for i, w := range widths {
			c := ""
			if line < len(split[i]) {
				c = split[i][line]
			}
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", max(0, w-utf8.RuneCountInString(c))))
			b.WriteByte('\t')
		}
		b.WriteByte('\n')
	}
}
