// Package codecommitapi stands in for AWS CodeCommit's Git HTTPS endpoint of one region
// (git-codecommit.<region>.amazonaws.com, reached through cloudapi.RouteHost): it takes the
// Git credentials git-remote-codecommit and `aws codecommit credential-helper` derive from AWS
// credentials, checks them against the credentials cloudapi's STS issued, and hands
// authorized requests to the real Git server.
package codecommitapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"gotk.dev/internal/testing/cloudapi"
	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/hostingapi"
)

// Server is one region's endpoint. Its check of the Git credentials is written from AWS's
// Signature Version 4 documentation, independently of the code under test: user name
// "<access key id>[%<session token>]", password "<YYYYMMDDTHHMMSS>Z<signature>", the
// signature over the canonical request "GIT\n<repository path>\n\nhost:<host>\n\nhost\n"
// with scope <date>/<region>/codecommit/aws4_request.
type Server struct {
	*hostingapi.Front
	// Host is the endpoint's name, Region its region.
	Host, Region string

	aws *cloudapi.AWS
	git *gitserver.Server

	mu       sync.Mutex
	denied   map[string]bool
	readOnly map[string]bool
	pushes   int
}

// codeCommitSkew is how far a password's timestamp may be from the server's clock.
const codeCommitSkew = 15 * time.Minute

// Start runs the endpoint of region for the repositories of git (a repository "<name>" of
// git is /v1/repos/<name>) until the end of the test, accepting the credentials aws's STS
// issues. Call cloudapi.InstallHostRouter first (TestMain).
func Start(t testing.TB, aws *cloudapi.AWS, git *gitserver.Server, region string) *Server {
	t.Helper()
	c := &Server{Host: "git-codecommit." + region + ".amazonaws.com", Region: region, aws: aws, git: git, denied: map[string]bool{}, readOnly: map[string]bool{}}
	front, err := hostingapi.ServeHosts("codecommit", []string{c.Host}, nil, hostingapi.Routes{Git: c.serveGit, API: func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "not found", http.StatusNotFound)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = front.Close() })
	c.Front = front
	cloudapi.RouteHost(c.Host, front.Host())
	return c
}

// RepoURL is the HTTPS clone URL of repository name.
func (c *Server) RepoURL(name string) string { return "https://" + c.Host + "/v1/repos/" + name }

// Deny makes the identity's permissions exclude repository name (no codecommit:GitPull or
// GitPush): valid credentials get 403.
func (c *Server) Deny(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.denied[name] = true
}

// DenyPush makes the identity's permissions allow codecommit:GitPull but not GitPush on
// repository name: valid credentials may clone, a push gets 403.
func (c *Server) DenyPush(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readOnly[name] = true
}

// Pushes counts the accepted git-receive-pack requests.
func (c *Server) Pushes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pushes
}

func (c *Server) serveGit(w http.ResponseWriter, r *http.Request) {
	name, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1/repos/"), "/")
	if !ok || !strings.HasPrefix(r.URL.Path, "/v1/repos/") {
		http.Error(w, "Repository not found", http.StatusNotFound)
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="CodeCommit"`)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	// The signature covers the host name without a port.
	host := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		host = h
	}
	if !c.valid(user, pass, "/v1/repos/"+name, host) {
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	push := gitserver.IsPush("/"+rest, r.URL.Query().Get("service"))
	c.mu.Lock()
	denied := c.denied[name] || (push && c.readOnly[name])
	if !denied && r.Method == http.MethodPost && push {
		c.pushes++
	}
	c.mu.Unlock()
	if denied {
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	hostingapi.Forward(c.git, w, r, name, rest)
}

// valid checks user and pass for the repository path on host.
func (c *Server) valid(user, pass, path, host string) bool {
	keyID, token, _ := strings.Cut(user, "%")
	if keyID != c.aws.AccessKeyID || token != c.aws.SessionToken {
		return false
	}
	stamp, sig, ok := strings.Cut(pass, "Z")
	if !ok {
		return false
	}
	at, err := time.Parse("20060102T150405", stamp)
	if err != nil || at.Sub(time.Now()).Abs() > codeCommitSkew {
		return false
	}
	canonical := "GIT\n" + path + "\n\nhost:" + host + "\n\nhost\n"
	scope := stamp[:8] + "/" + c.Region + "/codecommit/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + hexSHA256(canonical)
	key := []byte("AWS4" + c.aws.SecretAccessKey)
	for _, part := range []string{stamp[:8], c.Region, "codecommit", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	return hmac.Equal([]byte(sig), []byte(want))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hexSHA256(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
