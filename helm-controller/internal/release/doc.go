// Package release observes Helm releases and decides what a HelmRelease needs next.
//
// The pieces, in the order a reconciler uses them:
//
//   - PrepareAttempt resets the failure counters when the desired state changed (spec,
//     chart, values) or a reset was requested, and records the last attempted state.
//   - TargetChanged tells whether a release made for an earlier release name, target
//     namespace, storage namespace or chart name has to be uninstalled first.
//   - DetermineState compares the Helm storage with status.history and the desired chart
//     and values (pure); WithDrift folds in the result of drift detection.
//   - Decide picks the next action from the state (pure, table-tested): install, upgrade,
//     test, unlock, rollback or uninstall remediation, drift correction, or nothing; or
//     tells that retries are exhausted.
//   - Runner executes decisions with the Helm SDK in upstream's atomic-release loop and
//     records history, counters and the Released/TestSuccess/Remediated conditions.
//
// A reconciler step uses it like this (values from gotk.dev/helmrender/values.Compose, chart
// loaded and its Metadata.Version suffixed with the OCI digest where upstream does so; the
// reconciler in internal/controller is the real user):
//
//	if reason := release.TargetChanged(obj, chrt.Name()); reason != "" {
//		old := kube.NewFactory(cfg, obj.Status.History.Latest().Namespace, obj.Status.StorageNamespace, opts)
//		err = release.UninstallPrevious(ctx, old, obj, actionOpts)
//	}
//	release.PrepareAttempt(obj, chrt.Metadata.Version, release.ValuesDigest(vals), resetRequested)
//	runner := &release.Runner{
//		Factory: kube.NewFactory(cfg, obj.GetReleaseNamespace(), obj.GetStorageNamespace(),
//			kube.FactoryOptions{Persistent: obj.UsePersistentClient()}),
//		Drift: drift.NewDetector(client, kube.FieldManager()),
//	}
//	res, err := runner.Reconcile(ctx, release.Request{Object: obj, Chart: chrt, Values: vals, ForceRequested: force, VerifyHealth: true})
//	// res.Unverified: check the health of res.Current's objects, then Verified or
//	// VerificationFailed, and Reconcile again (tests, remediation);
//	// record res.Events; res.ForceHandled -> status.lastHandledForceAt;
//	// errors.Is(err, release.ErrRetriesExhausted/ErrMissingRollbackTarget) -> Stalled;
//	// res.Requeue -> requeue now; res.RetryAfter -> requeue after it; other errors -> back off.
package release
