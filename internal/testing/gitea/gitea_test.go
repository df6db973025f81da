package gitea

import (
	"context"
	"testing"
)

// TestGitea starts the real Gitea and uses its API as the admin.
func TestGitea(t *testing.T) {
	s := New(t, Options{})
	ctx := context.Background()
	if err := s.CreateOrg(ctx, "fleet"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTeam(ctx, "fleet", "ops"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRepo(ctx, "fleet", "infra", true); err != nil {
		t.Fatal(err)
	}
	r, err := s.Repository(ctx, "fleet", "infra")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Private || r.CloneURL != s.URL()+"/fleet/infra.git" || r.SSHURL != "ssh://git@"+s.SSHAddr()+"/fleet/infra.git" {
		t.Errorf("repository %+v", r)
	}
	if err := s.Archive(ctx, "fleet", "infra"); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Repository(ctx, "fleet", "infra"); r == nil || !r.Archived {
		t.Errorf("not archived: %+v", r)
	}
}
