package testenv

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var namespaces atomic.Int64

// NewNamespace creates a namespace of its own for a test, named prefix-<n>, with the
// "default" ServiceAccount pods need (no controller-manager runs to create it), and returns
// its name. envtest runs no namespace controller either, so namespaces are left behind
// rather than deleted.
func (e *Env) NewNamespace(tb testing.TB, prefix string) string {
	tb.Helper()
	name := fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%100000, namespaces.Add(1))
	ctx := context.Background()
	if err := e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		tb.Fatal(err)
	}
	if err := e.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: name}}); err != nil {
		tb.Fatal(err)
	}
	return name
}
