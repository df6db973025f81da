// Package gitserver runs real Git servers on 127.0.0.1 for tests: git
// http-backend behind net/http/cgi (smart HTTP with optional basic auth,
// bearer token, TLS and mutual TLS) and OpenSSH's sshd (SSH), plus helpers
// that write commits, branches, tags (lightweight, annotated, OpenPGP- or
// SSH-signed), arbitrary refs and submodules straight into the bare
// repositories, and a small forward proxy.
//
// Typical use:
//
//	srv := gitserver.New(t, gitserver.Options{Username: "u", Password: "p"})
//	url, _ := srv.InitRepo("app")
//	hash := srv.Commit("app").File("deploy/app.yaml", manifest).MustDo(t)
//
// Nothing here is mocked: clients under test speak to the same programs a
// production Git host runs, so authentication failures, ref advertisements
// and pack negotiation behave as they do in the field.
package gitserver
