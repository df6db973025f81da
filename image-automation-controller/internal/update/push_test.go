package update

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/pkg/git"
)

// TestRunNonFastForward races the push: between clone and push the test pushes another commit
// to main. The run must not overwrite it: it re-clones, re-applies and pushes on top.
func TestRunNonFastForward(t *testing.T) {
	t.Parallel()
	s, opts := httpServer(t)
	var theirs string
	opts.beforePush = func(attempt int) {
		if attempt == 1 {
			theirs = s.Commit("app").Branch("main").File("README.md", "# someone else's change\n").Message("concurrent").MustDo(t)
		}
	}
	res, err := Run(testContext(t), git.NewClient(git.ClientOptions{}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Attempts != 2 {
		t.Fatalf("result = %+v", res)
	}
	bare := s.Path("app")
	if parent := gitOut(t, bare, "rev-parse", res.Commit+"^"); parent != theirs {
		t.Fatalf("pushed commit's parent = %s, want the concurrent commit %s", parent, theirs)
	}
	if got := show(t, bare, "main", "README.md"); got != "# someone else's change\n" {
		t.Fatalf("concurrent change lost: %q", got)
	}
	if got := show(t, bare, "main", "clusters/prod/podinfo/deployment.yaml"); !strings.Contains(got, "podinfo:6.5.0") {
		t.Fatal("update missing")
	}
}

// TestRunConcurrentSameUpdate: the concurrent commit already made the update, so the retry
// has nothing to push.
func TestRunConcurrentSameUpdate(t *testing.T) {
	t.Parallel()
	s, opts := httpServer(t)
	opts.beforePush = func(attempt int) {
		if attempt == 1 {
			s.Commit("app").Branch("main").Files(map[string]string{
				"clusters/prod/podinfo/deployment.yaml": strings.Replace(deployment, "6.3.0", "6.5.0", 1),
				"clusters/prod/podinfo/values.yaml":     strings.Replace(values, "6.3.0", "6.5.0", 1),
			}).MustDo(t)
		}
	}
	res, err := Run(testContext(t), git.NewClient(git.ClientOptions{}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed || res.Attempts != 2 {
		t.Fatalf("result = %+v", res)
	}
}

// TestRunGivesUp: a branch that moves before every push exhausts MaxAttempts without ever
// forcing.
func TestRunGivesUp(t *testing.T) {
	t.Parallel()
	s, opts := httpServer(t)
	opts.MaxAttempts = 2
	var last string
	opts.beforePush = func(int) {
		last = s.Commit("app").Branch("main").File("README.md", "moving "+last+"\n").MustDo(t)
	}
	_, err := Run(testContext(t), git.NewClient(git.ClientOptions{}), opts)
	if err == nil || !strings.Contains(err.Error(), "push rejected 2 times") {
		t.Fatalf("err = %v", err)
	}
	if head, _ := s.Resolve("app", "main"); head != last {
		t.Fatalf("main = %s, want the other writer's %s", head, last)
	}
}

// TestRunPushBranch pushes to a separate branch (the pull-request flow) and replaces it when
// it is stale, as upstream does with GitForcePushBranch on.
func TestRunPushBranch(t *testing.T) {
	t.Parallel()
	s, opts := httpServer(t)
	opts.PushBranch = "image-updates"
	mainBefore, _ := s.Resolve("app", "main")
	client := git.NewClient(git.ClientOptions{})

	res, err := Run(testContext(t), client, opts)
	if err != nil {
		t.Fatal(err)
	}
	bare := s.Path("app")
	if head, _ := s.Resolve("app", "main"); head != mainBefore {
		t.Fatal("main moved")
	}
	if got := gitOut(t, bare, "rev-parse", "image-updates^"); got != mainBefore || res.PushBranch != "image-updates" {
		t.Fatalf("push branch parent = %s, want main %s", got, mainBefore)
	}

	// main moves on (a new file) and the policy too: the push branch is rebuilt from main.
	mainNow := s.Commit("app").Branch("main").File("NEW.md", "new\n").MustDo(t)
	opts.Policies[0] = podinfo("6.6.0")
	res2, err := Run(testContext(t), client, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := gitOut(t, bare, "rev-parse", "image-updates^"); got != mainNow {
		t.Fatalf("rebuilt push branch parent = %s, want %s", got, mainNow)
	}
	if head, _ := s.Resolve("app", "image-updates"); head != res2.Commit {
		t.Fatal("push branch not at the new commit")
	}

	// With GitForcePushBranch off, the update goes on top of the existing push branch.
	opts.DisableForcePushBranch = true
	opts.Policies[0] = podinfo("6.7.0")
	res3, err := Run(testContext(t), client, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := gitOut(t, bare, "rev-parse", "image-updates^"); got != res2.Commit {
		t.Fatalf("push branch parent = %s, want the previous update %s", got, res2.Commit)
	}
	if got := show(t, bare, "image-updates", "clusters/prod/podinfo/deployment.yaml"); !strings.Contains(got, "6.7.0") {
		t.Fatal("update missing on the push branch")
	}
	_ = res3
}

// TestRunPushBranchRace: a commit pushed to the push branch after the run looked at it is not
// overwritten by the forced update; the run starts over and replaces the branch it has seen.
func TestRunPushBranchRace(t *testing.T) {
	t.Parallel()
	s, opts := httpServer(t)
	opts.PushBranch = "auto"
	client := git.NewClient(git.ClientOptions{})
	if _, err := Run(testContext(t), client, opts); err != nil {
		t.Fatal(err)
	}
	opts.Policies[0] = podinfo("6.6.0")
	var intruder string
	opts.beforePush = func(attempt int) {
		if attempt == 1 {
			intruder = s.Commit("app").Branch("auto").File("INTRUDER.md", "x\n").MustDo(t)
		}
	}
	res, err := Run(testContext(t), client, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 2 {
		t.Fatalf("attempts = %d: the forced push did not notice the intruder %s", res.Attempts, intruder)
	}
}

// TestRunRefspecAndPushOptions pushes the branch and a refspec (the Gerrit/Gitea flow) with
// push options, which the server's hook records.
func TestRunRefspecAndPushOptions(t *testing.T) {
	t.Parallel()
	s, opts := httpServer(t)
	log := recordPushOptions(t, s.Path("app"))
	opts.PushBranch = "auto"
	opts.PushRefspec = "refs/heads/auto:refs/heads/review/main"
	opts.PushOptions = map[string]string{"merge_request.create": "", "merge_request.target": "release"}
	res, err := Run(testContext(t), git.NewClient(git.ClientOptions{}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.PushedRefs, []string{"refs/heads/auto", "refs/heads/review/main"}) {
		t.Fatalf("pushed refs = %v", res.PushedRefs)
	}
	for _, ref := range []string{"auto", "review/main"} {
		if head, _ := s.Resolve("app", ref); head != res.Commit {
			t.Errorf("%s = %s, want %s", ref, head, res.Commit)
		}
	}
	if want := "pushed commit '" + res.Commit[:7] + "' to branch 'auto' and to 'refs/heads/review/main'\n" + DefaultMessage; res.EventMessage() != want {
		t.Errorf("event message = %q", res.EventMessage())
	}
	got, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(strings.TrimSpace(string(got)))
	slices.Sort(lines)
	if !slices.Equal(lines, []string{"merge_request.create=", "merge_request.target=release"}) {
		t.Fatalf("push options received: %q", got)
	}
}

// TestRunOverSSH runs the whole flow against sshd.
func TestRunOverSSH(t *testing.T) {
	t.Parallel()
	s := gitserver.NewSSH(t, gitserver.SSHOptions{})
	seed(t, s.Repos, "app")
	repoURL := s.RepoURL("app")
	opts := baseOptions(t, repoURL, authFor(t, repoURL, map[string][]byte{"identity": s.ClientKey(), "known_hosts": s.KnownHosts()}))
	opts.PushBranch = "ssh-updates"
	opts.PushOptions = nil
	res, err := Run(testContext(t), git.NewClient(git.ClientOptions{}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if head, _ := s.Resolve("app", "ssh-updates"); head != res.Commit || !res.Changed {
		t.Fatalf("ssh-updates = %s, result %+v", head, res)
	}
	// A host key that does not match known_hosts is refused.
	other := gitserver.NewSSH(t, gitserver.SSHOptions{})
	bad := authFor(t, repoURL, map[string][]byte{"identity": s.ClientKey(), "known_hosts": other.KnownHosts()})
	opts.Auth, opts.Policies[0] = bad, podinfo("6.9.0")
	if _, err := Run(testContext(t), git.NewClient(git.ClientOptions{}), opts); err == nil {
		t.Fatal("pushed to a server with an unknown host key")
	}
}
