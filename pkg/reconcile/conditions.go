package reconcile

import (
	"unicode/utf8"

	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type metav1Condition = metav1.Condition

// maxConditionMessage keeps condition messages well under the API server's 32 KiB limit.
const maxConditionMessage = 20000

// conditionHolder is the part of Object the condition helpers need.
type conditionHolder interface {
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
	GetGeneration() int64
}

// SetCondition sets (or updates) a condition; lastTransitionTime only moves when the status
// does, so re-setting an unchanged condition produces no status change and no patch.
func SetCondition(obj conditionHolder, typ string, status metav1.ConditionStatus, reason, message string) {
	if len(message) > maxConditionMessage {
		message = cutUTF8(message, maxConditionMessage) + "..."
	}
	conds := obj.GetConditions()
	apimeta.SetStatusCondition(&conds, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: obj.GetGeneration(),
	})
	obj.SetConditions(conds)
}

// MarkTrue sets a True condition.
func MarkTrue(obj conditionHolder, typ, reason, message string) {
	SetCondition(obj, typ, metav1.ConditionTrue, reason, message)
}

// MarkFalse sets a False condition.
func MarkFalse(obj conditionHolder, typ, reason, message string) {
	SetCondition(obj, typ, metav1.ConditionFalse, reason, message)
}

// DeleteCondition removes a condition if present.
func DeleteCondition(obj conditionHolder, typ string) {
	conds := obj.GetConditions()
	if apimeta.FindStatusCondition(conds, typ) == nil {
		return
	}
	apimeta.RemoveStatusCondition(&conds, typ)
	obj.SetConditions(conds)
}

// GetCondition returns the condition of type typ, or nil.
func GetCondition(obj interface{ GetConditions() []metav1.Condition }, typ string) *metav1.Condition {
	return apimeta.FindStatusCondition(obj.GetConditions(), typ)
}

// IsTrue reports whether condition typ is True.
func IsTrue(obj interface{ GetConditions() []metav1.Condition }, typ string) bool {
	c := GetCondition(obj, typ)
	return c != nil && c.Status == metav1.ConditionTrue
}

// IsReady reports whether obj is Ready=True for its current generation, the way kstatus and
// dependants read it.
func IsReady(obj interface {
	GetConditions() []metav1.Condition
	GetGeneration() int64
	GetObservedGeneration() int64
}) bool {
	c := GetCondition(obj, meta.ReadyCondition)
	return c != nil && c.Status == metav1.ConditionTrue && obj.GetObservedGeneration() == obj.GetGeneration()
}

// cutUTF8 shortens s to at most n bytes without splitting a multi-byte character, which the
// JSON encoder would otherwise turn into U+FFFD.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
