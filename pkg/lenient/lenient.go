// Package lenient keeps one object's unreadable field from breaking every read of its kind.
//
// A duration such as "9999999999999999999h" matches the CRD's pattern, so the API server
// stores it, but it does not fit a time.Duration: the typed decoder fails, and with it the
// whole list a watch cache starts from. Every object of the kind then stops reconciling
// (GHSA-f4p5-x4vc-mh4v). Transport repairs such responses before the decoder sees them: the
// value is replaced with "0s" and the object gets the in-memory annotation Annotation naming
// what was wrong, which the reconcile engine turns into a Stalled condition on that object
// alone. The annotation is never written back: status and finalizer patches are computed
// against a copy that carries it too.
package lenient

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Annotation names the fields Transport repaired in an object, with why.
const Annotation = "internal.gotk.dev/invalid-fields"

// durationString matches a JSON string shaped like a Kubernetes duration (the CRD pattern).
var durationString = regexp.MustCompile(`"((?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+)"`)

// Problems returns what Transport repaired in an object with these annotations, "" when the
// object was read as stored.
func Problems(annotations map[string]string) string { return annotations[Annotation] }

// Transport returns a client-go transport wrapper (rest.Config.WrapTransport) that repairs
// JSON responses about objects of the given API groups.
func Transport(groups ...string) func(http.RoundTripper) http.RoundTripper {
	set := map[string]bool{}
	for _, g := range groups {
		set[g] = true
	}
	return func(next http.RoundTripper) http.RoundTripper { return &transport{next: next, groups: set} }
}

type transport struct {
	next   http.RoundTripper
	groups map[string]bool
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode/100 != 2 || !t.groups[groupOf(req.URL.Path)] ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return resp, err
	}
	if req.URL.Query().Get("watch") == "true" || req.URL.Query().Get("watch") == "1" {
		resp.Body = repairStream(resp.Body)
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if fixed, changed := repairDocument(body); changed {
		body = fixed
		resp.ContentLength = int64(len(body))
		resp.Header.Del("Content-Length")
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// groupOf returns the API group of a request path /apis/<group>/<version>/...
func groupOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/apis/")
	if !ok {
		return ""
	}
	g, _, _ := strings.Cut(rest, "/")
	return g
}

// suspicious reports whether data holds a duration string that does not parse.
func suspicious(data []byte) bool {
	for _, m := range durationString.FindAllSubmatch(data, -1) {
		if _, err := time.ParseDuration(string(m[1])); err != nil {
			return true
		}
	}
	return false
}

// repairDocument repairs an object or a list of objects; changed is false (and data is
// returned as is) when nothing needed repair.
func repairDocument(data []byte) ([]byte, bool) {
	if !suspicious(data) {
		return data, false
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return data, false
	}
	if items, ok := doc["items"].([]any); ok {
		for _, it := range items {
			if obj, ok := it.(map[string]any); ok {
				repairObject(obj)
			}
		}
	} else {
		repairObject(doc)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return data, false
	}
	return out, true
}

// repairObject replaces the unparseable durations of obj and records them in its annotations.
func repairObject(obj map[string]any) {
	var problems []string
	var walk func(path string, v any) any
	walk = func(path string, v any) any {
		switch t := v.(type) {
		case map[string]any:
			for k, c := range t {
				t[k] = walk(path+"."+k, c)
			}
		case []any:
			for i, c := range t {
				t[i] = walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
		case string:
			if m := durationString.FindStringSubmatch(`"` + t + `"`); m != nil && m[0] == `"`+t+`"` {
				if _, err := time.ParseDuration(t); err != nil {
					problems = append(problems, fmt.Sprintf("%s: %q is not a valid duration (%v)", strings.TrimPrefix(path, "."), t, errCause(err)))
					return "0s"
				}
			}
		}
		return v
	}
	for _, k := range []string{"spec", "status"} {
		if v, ok := obj[k]; ok {
			obj[k] = walk("."+k, v)
		}
	}
	if len(problems) == 0 {
		return
	}
	sort.Strings(problems)
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		obj["metadata"] = md
	}
	ann, _ := md["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
		md["annotations"] = ann
	}
	ann[Annotation] = strings.Join(problems, "; ")
}

func errCause(err error) string {
	if strings.Contains(err.Error(), "invalid duration") {
		return "it overflows"
	}
	return err.Error()
}

// repairStream repairs a watch stream: a sequence of {"type": ..., "object": ...} documents.
func repairStream(body io.ReadCloser) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		dec := json.NewDecoder(bufio.NewReader(body))
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				if err == io.EOF {
					err = nil
				}
				pw.CloseWithError(err)
				return
			}
			if suspicious(raw) {
				var ev map[string]any
				if json.Unmarshal(raw, &ev) == nil {
					if obj, ok := ev["object"].(map[string]any); ok {
						repairObject(obj)
						if b, err := json.Marshal(ev); err == nil {
							raw = b
						}
					}
				}
			}
			if _, err := pw.Write(append(raw, '\n')); err != nil {
				return
			}
		}
	}()
	return &pipeBody{PipeReader: pr, upstream: body}
}

// pipeBody closes the upstream body with the pipe, which ends the copying goroutine.
type pipeBody struct {
	*io.PipeReader
	upstream io.Closer
}

func (p *pipeBody) Close() error {
	p.PipeReader.Close()
	return p.upstream.Close()
}
