package cloudapi

import (
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// AWSOptions is the identity the AWS server accepts and what it issues.
type AWSOptions struct {
	// RoleARN and WebIdentityToken are what AssumeRoleWithWebIdentity must be called with.
	RoleARN, WebIdentityToken string
	// ECRPassword is the registry password GetAuthorizationToken hands out (user "AWS").
	ECRPassword string
	// Verify, with RoleSubjects, also accepts web identity tokens it verifies (a Kubernetes
	// TokenReview): RoleSubjects maps each role to the one token subject allowed to assume
	// it (system:serviceaccount:<namespace>:<name>), as a role's trust policy does.
	Verify       VerifyFunc
	RoleSubjects map[string]string
	// AccessKeyID and SecretAccessKey, when set, are the credentials STS issues (an S3
	// server's own keys, so a Bucket can be read with them); random otherwise. STS then
	// issues no session token: the S3 server standing in for Amazon S3 (versitygw) refuses
	// requests carrying one it does not know.
	AccessKeyID, SecretAccessKey string
}

// VerifyFunc checks a service account token for audience and returns its subject.
type VerifyFunc func(token, audience string) (subject string, err error)

// AWS serves STS (query protocol) and ECR (JSON 1.1 protocol) on one endpoint.
type AWS struct {
	counter
	URL  string
	opts AWSOptions
	// RefuseECR makes GetAuthorizationToken answer AccessDeniedException.
	RefuseECR atomic.Bool
	// Issued are the temporary credentials STS hands out.
	AccessKeyID, SecretAccessKey, SessionToken string
}

// StartAWS runs the server until the end of the test.
func StartAWS(t testing.TB, opts AWSOptions) *AWS {
	a := &AWS{opts: opts, AccessKeyID: "ASIA" + strings.ToUpper(Secret("")[:16]),
		SecretAccessKey: Secret("sk-"), SessionToken: Secret("session-")}
	if opts.AccessKeyID != "" {
		a.AccessKeyID, a.SecretAccessKey, a.SessionToken = opts.AccessKeyID, opts.SecretAccessKey, ""
	}
	srv := httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	return a
}

func (a *AWS) serve(w http.ResponseWriter, r *http.Request) {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		a.ecr(w, r, target)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("Action") != "AssumeRoleWithWebIdentity" {
		stsError(w, http.StatusBadRequest, "InvalidAction", "only AssumeRoleWithWebIdentity is served")
		return
	}
	f := r.PostForm
	if !a.trusted(f.Get("RoleArn"), f.Get("WebIdentityToken")) {
		stsError(w, http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
		return
	}
	a.add(func(c *Counts) { c.STS++ })
	type creds struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	}
	var resp struct {
		XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleWithWebIdentityResponse"`
		Result  struct {
			Credentials     creds  `xml:"Credentials"`
			AssumedRoleUser string `xml:"AssumedRoleUser>Arn"`
		} `xml:"AssumeRoleWithWebIdentityResult"`
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	resp.Result.Credentials = creds{a.AccessKeyID, a.SecretAccessKey, a.SessionToken, time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}
	resp.Result.AssumedRoleUser = a.opts.RoleARN + "/" + f.Get("RoleSessionName")
	resp.RequestID = "req-1"
	w.Header().Set("Content-Type", "text/xml")
	_ = xml.NewEncoder(w).Encode(resp)
}

// trusted reports whether token may assume role.
func (a *AWS) trusted(role, token string) bool {
	if role == a.opts.RoleARN && token == a.opts.WebIdentityToken {
		return true
	}
	want, ok := a.opts.RoleSubjects[role]
	if !ok || a.opts.Verify == nil {
		return false
	}
	sub, err := a.opts.Verify(token, "sts.amazonaws.com")
	return err == nil && sub == want
}

// ecr serves GetAuthorizationToken to requests signed with the credentials STS issued.
func (a *AWS) ecr(w http.ResponseWriter, r *http.Request, target string) {
	if target != "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken" {
		jsonError(w, http.StatusBadRequest, "UnknownOperationException", "only GetAuthorizationToken is served")
		return
	}
	authz := r.Header.Get("Authorization")
	if !strings.Contains(authz, "Credential="+a.AccessKeyID+"/") || r.Header.Get("X-Amz-Security-Token") != a.SessionToken {
		jsonError(w, http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	if a.RefuseECR.Load() {
		jsonError(w, http.StatusBadRequest, "AccessDeniedException", "User is not authorized to perform: ecr:GetAuthorizationToken")
		return
	}
	a.add(func(c *Counts) { c.ECR++ })
	token := base64.StdEncoding.EncodeToString([]byte("AWS:" + a.opts.ECRPassword))
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"authorizationData": []map[string]any{{
		"authorizationToken": token,
		"expiresAt":          float64(time.Now().Add(12 * time.Hour).Unix()),
		"proxyEndpoint":      "https://ecr.example",
	}}})
}

func stsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`, code, msg)
}

func jsonError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
