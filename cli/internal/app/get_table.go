package app

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// getHeader is the table header of flux get for kind, with NAMESPACE first across
// namespaces. The image kinds have their own middle columns.
func getHeader(kind string, allNamespaces bool) []string {
	h := []string{"NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"}
	if mid, ok := imageHeaders[kind]; ok {
		h = append(append([]string{"NAME"}, mid...), "READY", "MESSAGE")
	}
	if allNamespaces {
		return append([]string{"NAMESPACE"}, h...)
	}
	return h
}

// isNotificationKind reports the kinds flux get shows with the NAME SUSPENDED READY MESSAGE table.
func isNotificationKind(k Kind) bool { return k.GroupVersion.Group == notificationGV.Group }

// kindHeader is the table header of kind k's objects.
func kindHeader(k Kind, allNamespaces bool) []string {
	if h, ok := sourceWatcherHeader(k); ok {
		if allNamespaces {
			return append([]string{"NAMESPACE"}, h...)
		}
		return h
	}
	if !isNotificationKind(k) {
		return getHeader(k.Kind, allNamespaces)
	}
	h := []string{"NAME", "SUSPENDED", "READY", "MESSAGE"}
	if allNamespaces {
		return append([]string{"NAMESPACE"}, h...)
	}
	return h
}

// kindRow is one row of kind k's table. Static objects have no status: admitted by the API
// server, they are in effect, which upstream flux shows as Ready "<Kind> is Ready".
func kindRow(k Kind, u *unstructured.Unstructured, allNamespaces, includeKind bool) []string {
	if row, ok := sourceWatcherRow(k, u, includeKind); ok {
		if allNamespaces {
			return append([]string{u.GetNamespace()}, row...)
		}
		return row
	}
	if !isNotificationKind(k) {
		return getRow(u, allNamespaces, includeKind)
	}
	full := getRow(u, false, includeKind)
	name, suspended, ready, msg := full[0], full[2], full[3], full[4]
	if k.Static {
		ready, msg = "True", k.Kind+" is Ready"
	}
	row := []string{name, suspended, ready, msg}
	if allNamespaces {
		return append([]string{u.GetNamespace()}, row...)
	}
	return row
}

// getRow is one object's row: its name (prefixed "gitrepository/" when tables of several
// kinds are printed), revision and message with digests shortened, suspended and ready.
func getRow(u *unstructured.Unstructured, allNamespaces, includeKind bool) []string {
	st := StatusOf(u)
	msg := st.Message
	if msg == "" && st.Ready == "Unknown" {
		msg = "waiting to be reconciled"
	}
	name := u.GetName()
	if includeKind {
		name = strings.ToLower(u.GetKind()) + "/" + name
	}
	suspended := "False"
	if st.Suspended {
		suspended = "True"
	}
	row := []string{name, truncateHex(st.Revision), suspended, st.Ready, oneLine(truncateHex(msg))}
	if mid, ok := imageCells(u, suspended); ok {
		row = append(append([]string{name}, mid...), st.Ready, oneLine(truncateHex(msg)))
	}
	if allNamespaces {
		return append([]string{u.GetNamespace()}, row...)
	}
	return row
}

// digestPattern matches an algorithm-prefixed hex digest, as in "main@sha1:<40 hex>".
var digestPattern = regexp.MustCompile(`\b(sha1|sha256|sha384|sha512|blake3):([0-9a-f]{8})[0-9a-f]+`)

// truncateHex shortens every digest to its first 8 hex digits, as upstream flux get does,
// so revisions fit a terminal: "main@sha1:0123abcd".
func truncateHex(s string) string {
	return digestPattern.ReplaceAllString(s, "$1:$2")
}

// oneLine keeps a multi-line message on its row.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// renderTable prints rows the way upstream flux's tables look: every cell left-aligned and
// padded to its column's width, each followed by a tab; no borders, no header line. A nil
// header prints only rows.
func renderTable(w io.Writer, header []string, rows [][]string) error {
	cols := len(header)
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	width := make([]int, cols)
	all := rows
	if header != nil {
		all = append([][]string{header}, rows...)
	}
	for _, r := range all {
		for i, cell := range r {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	var b strings.Builder
	for _, r := range all {
		for i := 0; i < cols; i++ {
			cell := ""
			if i < len(r) {
				cell = r[i]
			}
			b.WriteString(cell)
			b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell)))
			b.WriteByte('\t')
		}
		b.WriteByte('\n')
	}
	_, err := fmt.Fprint(w, b.String())
	return err
}

// statusSelector filters objects by a condition: "ready=false" keeps those whose Ready
// condition is False. Both sides compare case-insensitively, as upstream does.
type statusSelector struct{ condition, status string }

func parseStatusSelector(s string) (*statusSelector, error) {
	if s == "" {
		return nil, nil
	}
	cond, status, ok := strings.Cut(s, "=")
	if !ok || cond == "" || status == "" {
		return nil, fmt.Errorf("invalid --status-selector %q: want <condition>=<status>, e.g. ready=false", s)
	}
	return &statusSelector{condition: cond, status: status}, nil
}

// matches reports whether the object has the condition with the status.
func (s *statusSelector) matches(u *unstructured.Unstructured) bool {
	if s == nil {
		return true
	}
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range raw {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		typ, _ := m["type"].(string)
		status, _ := m["status"].(string)
		if strings.EqualFold(typ, s.condition) {
			return strings.EqualFold(status, s.status)
		}
	}
	return false
}
