package app

import (
	"fmt"
	"strings"
)

// maxDiffCells bounds the line-matching table of unifiedDiff; beyond it the differing middle
// is shown as removed and added wholesale (correct, only not minimal).
const maxDiffCells = 16 << 20

// unifiedDiff returns the unified diff (diff -u format, with context lines of context) from
// a to b, or "" when they are equal.
func unifiedDiff(a, b, nameA, nameB string, context int) string {
	if a == b {
		return ""
	}
	ops := diffLines(splitLines(a), splitLines(b))
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
	// Group the edit script into hunks: runs of changes with up to 2*context equal lines
	// between them.
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(0, i-context)
		end := i
		for j := i; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				end = j + 1
				continue
			}
			if j-end >= 2*context {
				break
			}
		}
		stop := min(len(ops), end+context)
		writeHunk(&out, ops, start, stop)
		i = stop
	}
	return out.String()
}

// lineOp is one line of an edit script: ' ' kept, '-' removed from a, '+' added from b.
// aLine and bLine are the 1-based positions of the line in a and b (before it, for a side
// that lacks it).
type lineOp struct {
	kind         byte
	text         string
	aLine, bLine int
}

func writeHunk(out *strings.Builder, ops []lineOp, start, stop int) {
	aStart, bStart := ops[start].aLine, ops[start].bLine
	aCount, bCount := 0, 0
	for _, op := range ops[start:stop] {
		if op.kind != '+' {
			aCount++
		}
		if op.kind != '-' {
			bCount++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(aStart, aCount), hunkRange(bStart, bCount))
	for _, op := range ops[start:stop] {
		out.WriteByte(op.kind)
		out.WriteString(op.text)
		out.WriteByte('\n')
	}
}

// hunkRange formats "start,count" as diff -u does: an empty range names the line before it.
func hunkRange(start, count int) string {
	if count == 0 {
		return fmt.Sprintf("%d,0", start-1)
	}
	if count == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// diffLines computes an edit script turning a into b: the common prefix and suffix are
// kept, and the middle is aligned on a longest common subsequence of lines.
func diffLines(a, b []string) []lineOp {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []lineOp
	ai, bi := 1, 1
	keep := func(text string) { ops = append(ops, lineOp{' ', text, ai, bi}); ai++; bi++ }
	del := func(text string) { ops = append(ops, lineOp{'-', text, ai, bi}); ai++ }
	add := func(text string) { ops = append(ops, lineOp{'+', text, ai, bi}); bi++ }
	for _, l := range a[:pre] {
		keep(l)
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(ma)*len(mb) > maxDiffCells {
		for _, l := range ma {
			del(l)
		}
		for _, l := range mb {
			add(l)
		}
	} else {
		// lcs[i][j] is the LCS length of ma[i:] and mb[j:].
		w := len(mb) + 1
		lcs := make([]int32, (len(ma)+1)*w)
		for i := len(ma) - 1; i >= 0; i-- {
			for j := len(mb) - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
				} else {
					lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(ma) && j < len(mb) {
			switch {
			case ma[i] == mb[j]:
				keep(ma[i])
				i++
				j++
			case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
				del(ma[i])
				i++
			default:
				add(mb[j])
				j++
			}
		}
		for ; i < len(ma); i++ {
			del(ma[i])
		}
		for ; j < len(mb); j++ {
			add(mb[j])
		}
	}
	for _, l := range a[len(a)-suf:] {
		keep(l)
	}
	return ops
}
