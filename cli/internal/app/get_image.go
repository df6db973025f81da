package app

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// imageHeaders are the columns upstream's flux get images prints per kind, between NAME and
// the trailing READY and MESSAGE.
var imageHeaders = map[string][]string{
	"ImageRepository":       {"LAST SCAN", "SUSPENDED"},
	"ImagePolicy":           {"LATEST IMAGE"},
	"ImageUpdateAutomation": {"LAST RUN", "SUSPENDED"},
}

// imageCells are an image kind's middle columns (see imageHeaders); ok is false for other kinds.
func imageCells(u *unstructured.Unstructured, suspended string) (cells []string, ok bool) {
	switch u.GetKind() {
	case "ImageRepository":
		scan, _, _ := unstructured.NestedString(u.Object, "status", "lastScanResult", "scanTime")
		return []string{scan, suspended}, true
	case "ImagePolicy":
		return []string{latestImage(u)}, true
	case "ImageUpdateAutomation":
		run, _, _ := unstructured.NestedString(u.Object, "status", "lastAutomationRunTime")
		return []string{run, suspended}, true
	}
	return nil, false
}

// latestImage is an ImagePolicy's status.latestRef as name:tag, with @digest when reflected.
func latestImage(u *unstructured.Unstructured) string {
	name, _, _ := unstructured.NestedString(u.Object, "status", "latestRef", "name")
	tag, _, _ := unstructured.NestedString(u.Object, "status", "latestRef", "tag")
	if name == "" {
		return ""
	}
	img := name + ":" + tag
	if d, _, _ := unstructured.NestedString(u.Object, "status", "latestRef", "digest"); d != "" {
		img += "@" + d
	}
	return img
}

// imageKinds are the kinds of flux get images all, in upstream's order.
func imageKinds() []Kind {
	var out []Kind
	for _, k := range Kinds() {
		if k.Parent == "image" {
			out = append(out, k)
		}
	}
	return out
}
