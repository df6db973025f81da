package release

import (
	"errors"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/release"

	v2 "gotk.dev/helm-controller/api/v2"
)

func TestDecide(t *testing.T) {
	v1 := rec(1, release.StatusSuperseded, "1.0.0", vals)
	v2f := rec(2, release.StatusFailed, "2.0.0", vals)
	v1changed := rec(1, release.StatusSuperseded, "1.0.0", vals)
	v1changed.Info.Description = "edited"
	failedHistory := withHistory(snap(v2f), snap(v1))

	tests := []struct {
		name      string
		obj       *v2.HelmRelease
		state     Status
		records   []*release.Release
		force     bool
		want      Action
		wantErr   error
		forced    bool
		clear     bool
		truncate  bool
		rollbackV int
	}{
		{name: "in sync", obj: hr(), state: InSync, want: None, truncate: true},
		{name: "in sync, forced", obj: hr(), state: InSync, force: true, want: Upgrade, forced: true, truncate: true},
		{name: "locked", obj: hr(), state: Locked, want: Unlock},
		{name: "absent", obj: hr(), state: Absent, want: Install},
		{name: "absent with retries left", obj: hr(installRemediation(2, false), lastAttempt(v2.ReleaseActionInstall, 2, 0)), state: Absent, want: Install},
		{name: "absent, install retries exhausted", obj: hr(installRemediation(2, false), lastAttempt(v2.ReleaseActionInstall, 3, 0)), state: Absent, wantErr: ErrRetriesExhausted},
		{name: "absent, retries exhausted, forced", obj: hr(lastAttempt(v2.ReleaseActionInstall, 1, 0)), state: Absent, force: true, want: Install, forced: true},
		{name: "absent, unlimited retries", obj: hr(installRemediation(-1, false), lastAttempt(v2.ReleaseActionInstall, 99, 0)), state: Absent, want: Install},
		{name: "absent, RetryOnFailure never exhausts", obj: hr(retryStrategy(true), lastAttempt(v2.ReleaseActionInstall, 7, 0)), state: Absent, want: Install},
		{name: "unmanaged", obj: hr(), state: Unmanaged, want: Upgrade, clear: true},
		{name: "out of sync", obj: hr(), state: OutOfSync, want: Upgrade},
		{name: "out of sync, upgrade retries exhausted", obj: hr(lastAttempt(v2.ReleaseActionUpgrade, 0, 1)), state: OutOfSync, wantErr: ErrRetriesExhausted},
		{name: "out of sync, exhausted, forced", obj: hr(lastAttempt(v2.ReleaseActionUpgrade, 0, 1)), state: OutOfSync, force: true, want: Upgrade, forced: true},
		{name: "out of sync, RetryOnFailure", obj: hr(retryStrategy(false), lastAttempt(v2.ReleaseActionUpgrade, 0, 5)), state: OutOfSync, want: Upgrade},
		{name: "drifted, correction enabled", obj: hr(driftMode(v2.DriftDetectionEnabled)), state: Drifted, want: CorrectDrift},
		{name: "drifted, warn only", obj: hr(driftMode(v2.DriftDetectionWarn)), state: Drifted, want: WarnDrift},
		{name: "drifted, forced", obj: hr(driftMode(v2.DriftDetectionEnabled)), state: Drifted, force: true, want: Upgrade, forced: true},
		{name: "untested", obj: hr(withTests(false)), state: Untested, want: Test},
		{name: "failed, no release attempted", obj: hr(failedHistory), state: Failed, want: Upgrade},
		{name: "failed, counters reset", obj: hr(failedHistory, upgradeRemediation(3, v2.RollbackRemediationStrategy), lastAttempt(v2.ReleaseActionUpgrade, 0, 0)), state: Failed, want: Upgrade},
		{name: "failed, forced", obj: hr(failedHistory, lastAttempt(v2.ReleaseActionUpgrade, 0, 4)), state: Failed, force: true, want: Upgrade, forced: true},
		{name: "failed, RetryOnFailure", obj: hr(failedHistory, retryStrategy(false), lastAttempt(v2.ReleaseActionUpgrade, 0, 4)), state: Failed, want: Upgrade},
		{name: "failed upgrade, no retries", obj: hr(failedHistory, lastAttempt(v2.ReleaseActionUpgrade, 0, 1)), state: Failed, wantErr: ErrRetriesExhausted},
		{name: "failed upgrade, rollback", obj: hr(failedHistory, upgradeRemediation(2, v2.RollbackRemediationStrategy), lastAttempt(v2.ReleaseActionUpgrade, 0, 1)), records: []*release.Release{v1, v2f}, state: Failed, want: RollbackRemediation, truncate: true, rollbackV: 1},
		{name: "failed upgrade, last failure remediated", obj: hr(failedHistory, upgradeRemediation(2, v2.RollbackRemediationStrategy), lastAttempt(v2.ReleaseActionUpgrade, 0, 3)), records: []*release.Release{v1, v2f}, state: Failed, want: RollbackRemediation, truncate: true, rollbackV: 1},
		{name: "failed upgrade, rollback target gone", obj: hr(failedHistory, upgradeRemediation(2, v2.RollbackRemediationStrategy), lastAttempt(v2.ReleaseActionUpgrade, 0, 1)), records: []*release.Release{v2f}, state: Failed, wantErr: ErrMissingRollbackTarget},
		{name: "failed upgrade, no previous release", obj: hr(withHistory(snap(v2f)), upgradeRemediation(2, v2.RollbackRemediationStrategy), lastAttempt(v2.ReleaseActionUpgrade, 0, 1)), records: []*release.Release{v2f}, state: Failed, wantErr: ErrMissingRollbackTarget},
		{name: "failed upgrade, rollback target changed", obj: hr(failedHistory, upgradeRemediation(2, v2.RollbackRemediationStrategy), lastAttempt(v2.ReleaseActionUpgrade, 0, 1)), records: []*release.Release{v1changed, v2f}, state: Failed, want: Upgrade, truncate: true},
		{name: "failed upgrade, uninstall strategy", obj: hr(failedHistory, upgradeRemediation(2, v2.UninstallRemediationStrategy), lastAttempt(v2.ReleaseActionUpgrade, 0, 1)), state: Failed, want: UninstallRemediation, truncate: true},
		{name: "failed install, retries left", obj: hr(withHistory(snap(v2f)), installRemediation(1, false), lastAttempt(v2.ReleaseActionInstall, 1, 0)), state: Failed, want: UninstallRemediation, truncate: true},
		{name: "failed install, exhausted", obj: hr(withHistory(snap(v2f)), installRemediation(1, false), lastAttempt(v2.ReleaseActionInstall, 2, 0)), state: Failed, wantErr: ErrRetriesExhausted},
		{name: "failed install, exhausted, remediate last failure", obj: hr(withHistory(snap(v2f)), installRemediation(1, true), lastAttempt(v2.ReleaseActionInstall, 2, 0)), state: Failed, want: UninstallRemediation, truncate: true},
		{name: "unknown", obj: hr(), state: Unknown, wantErr: errUnknownForTest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := State{Status: tt.state, Reason: "test"}
			if tt.state == Unknown {
				st.Err = errUnknownForTest
			}
			d := Decide(Input{Object: tt.obj, State: st, Records: tt.records, ForceRequested: tt.force})
			if tt.wantErr != nil {
				if !errors.Is(d.Err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", d.Err, tt.wantErr)
				}
				if d.Action != None {
					t.Fatalf("action %q with an error", d.Action)
				}
				return
			}
			if d.Err != nil {
				t.Fatalf("unexpected error %v", d.Err)
			}
			if d.Action != tt.want {
				t.Fatalf("action = %q (%s), want %q", d.Action, d.Reason, tt.want)
			}
			if d.ForceHandled != tt.forced || d.ClearHistory != tt.clear || d.TruncateHistory != tt.truncate {
				t.Errorf("forced=%v clear=%v truncate=%v, want %v %v %v", d.ForceHandled, d.ClearHistory, d.TruncateHistory, tt.forced, tt.clear, tt.truncate)
			}
			if tt.rollbackV != 0 && (d.RollbackTo == nil || d.RollbackTo.Version != tt.rollbackV) {
				t.Errorf("rollback to %+v, want version %d", d.RollbackTo, tt.rollbackV)
			}
		})
	}
}

var errUnknownForTest = errors.New("cannot act on status superseded")

func TestRetryInterval(t *testing.T) {
	if got := RetryInterval(hr(retryStrategy(false), lastAttempt(v2.ReleaseActionUpgrade, 0, 1))); got != 42*time.Second {
		t.Errorf("upgrade retry interval = %s", got)
	}
	if got := RetryInterval(hr(retryStrategy(true), lastAttempt(v2.ReleaseActionInstall, 1, 0))); got != v2.DefaultRetryInterval {
		t.Errorf("install retry interval = %s", got)
	}
	if got := RetryInterval(hr(lastAttempt(v2.ReleaseActionUpgrade, 0, 1))); got != 0 {
		t.Errorf("RemediateOnFailure has no retry interval, got %s", got)
	}
}

func TestActionKinds(t *testing.T) {
	for a, k := range map[Action]Kind{Install: KindRelease, Upgrade: KindRelease, Test: KindTest, RollbackRemediation: KindRemediation,
		UninstallRemediation: KindRemediation, Unlock: KindUnlock, CorrectDrift: KindDrift} {
		if a.Kind() != k {
			t.Errorf("%s.Kind() = %s, want %s", a, a.Kind(), k)
		}
	}
}
