package chart

import (
	"errors"
	"fmt"
)

// Reason classifies a build failure. Its Reason string is the HelmChart condition reason
// (wire-compatible with upstream source-controller); Persistent says whether retrying without
// a spec (or source) change can help.
type Reason struct {
	// Reason is the condition reason, CamelCase.
	Reason string
	// Summary prefixes the error message.
	Summary string
	// Persistent failures need a change to the HelmChart or its source; the reconciler marks
	// them Stalled instead of retrying.
	Persistent bool
}

// The build failure reasons.
var (
	ReasonChartReference = Reason{Reason: "InvalidChartReference", Summary: "invalid chart reference", Persistent: true}
	ReasonChartPull      = Reason{Reason: "ChartPullError", Summary: "chart pull error"}
	ReasonMetadataPatch  = Reason{Reason: "MetadataPatchError", Summary: "chart metadata patch error", Persistent: true}
	ReasonValuesFiles    = Reason{Reason: "ValuesFilesError", Summary: "values files merge error", Persistent: true}
	ReasonDependency     = Reason{Reason: "DependencyBuildError", Summary: "dependency build error"}
	ReasonPackage        = Reason{Reason: "ChartPackageError", Summary: "chart package error"}
)

// BuildError is the error every build function returns: a Reason and the cause.
type BuildError struct {
	Reason Reason
	Err    error
}

func (e *BuildError) Error() string { return fmt.Sprintf("%s: %s", e.Reason.Summary, e.Err) }

func (e *BuildError) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of a *BuildError in err's chain, and false for other errors.
func ReasonOf(err error) (Reason, bool) {
	var be *BuildError
	if errors.As(err, &be) {
		return be.Reason, true
	}
	return Reason{}, false
}

func buildErr(r Reason, err error) error {
	var be *BuildError
	if errors.As(err, &be) {
		return err
	}
	return &BuildError{Reason: r, Err: err}
}

func buildErrf(r Reason, format string, args ...any) error {
	return &BuildError{Reason: r, Err: fmt.Errorf(format, args...)}
}
