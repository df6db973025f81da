package notifier

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
)

// hexSHA matches a full SHA-1 or SHA-256 commit hash.
var hexSHA = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// ParseRevision extracts the commit hash from a Flux revision in any of the formats the
// controllers emit: `<ref>@sha1:<hex>` (also sha256), `sha1:<hex>`, and the legacy
// `<branch>/<hex>` or a bare `<hex>`.
func ParseRevision(rev string) (string, error) {
	rev = strings.TrimSpace(rev)
	sha := rev
	if i := strings.LastIndex(rev, "@"); i >= 0 {
		sha = rev[i+1:]
	}
	if algo, hex, ok := strings.Cut(sha, ":"); ok {
		if algo != "sha1" && algo != "sha256" {
			return "", fmt.Errorf("revision %q: unsupported hash algorithm %q", rev, algo)
		}
		sha = hex
	} else if i := strings.LastIndex(sha, "/"); i >= 0 {
		sha = sha[i+1:]
	}
	if !hexSHA.MatchString(sha) {
		return "", fmt.Errorf("revision %q does not end with a commit hash", rev)
	}
	return sha, nil
}

// commitOf returns the commit hash of the event: the first of the `commit`, `originRevision`
// and `revision` metadata (prefixes already stripped by the intake).
func commitOf(ev *eventv1.Event) (string, error) {
	rev, ok := ev.GetRevision()
	if !ok {
		return "", permanent("the event carries no revision metadata, so no commit to set a status on")
	}
	sha, err := ParseRevision(rev)
	if err != nil {
		return "", permanent("%v", err)
	}
	return sha, nil
}

// statusDescription renders the event reason as words: `ReconciliationSucceeded` becomes
// `Reconciliation succeeded`.
func statusDescription(ev *eventv1.Event) string {
	var words []string
	var cur []rune
	for i, r := range ev.Reason {
		if i > 0 && unicode.IsUpper(r) && len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
		cur = append(cur, r)
	}
	if len(cur) > 0 {
		words = append(words, string(cur))
	}
	for i := range words {
		if i > 0 {
			words[i] = strings.ToLower(words[i])
		}
	}
	return strings.Join(words, " ")
}

// statusIDFunc computes the commit status identifier (GitHub's context, GitLab's name,
// Bitbucket's key) of an event.
type statusIDFunc func(ev *eventv1.Event) (string, error)

// newStatusIDFunc returns upstream's default `<kind>/<name>/<first segment of the Provider
// UID>` in lower case, or the value of spec.commitStatusExpr, a CEL expression over `event`,
// `provider` and `alert` that must yield a string.
func newStatusIDFunc(o *Options) (statusIDFunc, error) {
	if o.CommitStatusExpr == "" {
		uid, _, _ := strings.Cut(o.ProviderUID, "-")
		return func(ev *eventv1.Event) (string, error) {
			return strings.ToLower(ev.InvolvedObject.Kind + "/" + ev.InvolvedObject.Name + "/" + uid), nil
		}, nil
	}
	env, err := cel.NewEnv(
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("provider", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("alert", cel.MapType(cel.StringType, cel.DynType)),
	)
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(o.CommitStatusExpr)
	if iss.Err() != nil {
		return nil, permanent("commitStatusExpr: %v", iss.Err())
	}
	if t := ast.OutputType(); t != cel.StringType && t != cel.DynType {
		return nil, permanent("commitStatusExpr must evaluate to a string, not %s", t)
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(1_000_000))
	if err != nil {
		return nil, permanent("commitStatusExpr: %v", err)
	}
	provider, err := toMap(o.Provider)
	if err != nil {
		return nil, err
	}
	alert, err := toMap(o.Alert)
	if err != nil {
		return nil, err
	}
	return func(ev *eventv1.Event) (string, error) {
		evMap, err := toMap(ev)
		if err != nil {
			return "", err
		}
		out, _, err := prg.Eval(map[string]any{"event": evMap, "provider": provider, "alert": alert})
		if err != nil {
			return "", permanent("commitStatusExpr: %v", err)
		}
		if out.Type() != types.StringType {
			return "", permanent("commitStatusExpr evaluated to %s, not a string", out.Type())
		}
		id := strings.TrimSpace(out.Value().(string))
		if id == "" {
			return "", permanent("commitStatusExpr evaluated to an empty string")
		}
		return id, nil
	}, nil
}

// toMap converts an object to the JSON-shaped map CEL sees (nil becomes an empty map).
func toMap(v any) (map[string]any, error) {
	out := map[string]any{}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if string(raw) == "null" {
		return out, nil
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// commitStatus is what every Git host notifier needs: the shared HTTP sender, the parsed
// repository and the status ID function.
type commitStatus struct {
	*httpSender
	repo     repoAddress
	statusID statusIDFunc
	token    string
}

func newCommitStatus(o *Options, needToken bool) (*commitStatus, error) {
	repo, err := parseRepoAddress(o.Address)
	if err != nil {
		return nil, err
	}
	if needToken && o.Token == "" {
		return nil, permanent("the Secret must hold a 'token'")
	}
	id, err := newStatusIDFunc(o)
	if err != nil {
		return nil, err
	}
	s, err := newHTTPSender(o)
	if err != nil {
		return nil, err
	}
	return &commitStatus{httpSender: s, repo: repo, statusID: id, token: o.Token}, nil
}

// prepare returns the commit hash, status ID and description of an event.
func (c *commitStatus) prepare(ev *eventv1.Event) (sha, id, desc string, err error) {
	if sha, err = commitOf(ev); err != nil {
		return "", "", "", err
	}
	if id, err = c.statusID(ev); err != nil {
		return "", "", "", err
	}
	return sha, id, statusDescription(ev), nil
}
