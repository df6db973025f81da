package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"

	v2 "gotk.dev/helm-controller/api/v2"
)

// writtenStatus remembers, per HelmRelease, the release status this controller last wrote.
// The release loop acts on status.history and the failure counters: acting on a cached copy
// that has not caught up with the last write would see the release as made by someone else
// and upgrade it again. When the cache disagrees with what was written, the engine reads the
// HelmRelease from the API instead (reconcile.Options.Refresh). After a restart nothing is
// remembered and the cache is trusted, as it was filled after the last write.
type writtenStatus struct{ m sync.Map }

// remember records obj's release status as written.
func (w *writtenStatus) remember(obj *v2.HelmRelease) { w.m.Store(obj.UID, releaseStatusKey(obj)) }

// forget drops a deleted HelmRelease.
func (w *writtenStatus) forget(uid types.UID) { w.m.Delete(uid) }

// stale tells whether obj's release status differs from the last one written.
func (w *writtenStatus) stale(obj *v2.HelmRelease) bool {
	v, ok := w.m.Load(obj.UID)
	return ok && v.(string) != releaseStatusKey(obj)
}

// releaseStatusKey digests what the release loop decides on.
func releaseStatusKey(obj *v2.HelmRelease) string {
	st := obj.Status
	key := struct {
		History                                    v2.Snapshots
		Failures, InstallFailures, UpgradeFailures int64
		Action                                     v2.ReleaseAction
		Force, Reset                               string
		Released                                   string
	}{st.History, st.Failures, st.InstallFailures, st.UpgradeFailures, st.LastAttemptedReleaseAction, st.LastHandledForceAt, st.LastHandledResetAt, ""}
	if c := apimeta.FindStatusCondition(st.Conditions, v2.ReleasedCondition); c != nil {
		key.Released = string(c.Status) + "/" + c.Reason
	}
	b, _ := json.Marshal(key)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
