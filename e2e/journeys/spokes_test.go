package journeys_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/e2e/cluster"
	"gotk.dev/internal/testing/tcpproxy"
)

// spoke is a cluster the hub deploys to: its own control plane with a kwok node, reached by
// the hub's controllers only through proxy, so a journey can take its API away.
type spoke struct {
	name    string
	cluster *cluster.Cluster
	client  client.Client
	proxy   *tcpproxy.Proxy
	// kubeconfig is an admin kubeconfig of the spoke whose server is the proxy.
	kubeconfig []byte
}

// startSpokes starts one spoke cluster per name, side by side, and stops them when the test
// ends. Their state (and logs) live under the shared environment's directory.
func startSpokes(t *testing.T, ctx context.Context, names ...string) map[string]*spoke {
	t.Helper()
	spokes := make(map[string]*spoke, len(names))
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := startSpoke(ctx, name, cluster.Options{})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("spoke %s: %w", name, err))
			}
			if s != nil {
				spokes[name] = s
			}
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, s := range spokes {
			s.stop()
		}
	})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return spokes
}

// startSpokeWith starts one spoke with opts (its state directory and one kwok node filled in)
// and stops it when the test ends.
func startSpokeWith(t *testing.T, ctx context.Context, name string, opts cluster.Options) *spoke {
	t.Helper()
	s, err := startSpoke(ctx, name, opts)
	if s != nil {
		t.Cleanup(func() {
			s.stop()
		})
	}
	if err != nil {
		t.Fatalf("spoke %s: %v", name, err)
	}
	return s
}

func startSpoke(ctx context.Context, name string, opts cluster.Options) (*spoke, error) {
	opts.Dir, opts.Nodes = filepath.Join(suite.env.Dir, "spokes", name), 1
	c, err := cluster.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	s := &spoke{name: name, cluster: c}
	if s.client, err = client.New(c.Config, client.Options{Scheme: suite.env.Scheme}); err != nil {
		return s, err
	}
	host, err := url.Parse(c.Config.Host)
	if err != nil {
		return s, err
	}
	if s.proxy, err = tcpproxy.Start(host.Host); err != nil {
		return s, err
	}
	raw, err := os.ReadFile(c.Kubeconfig)
	if err != nil {
		return s, err
	}
	kc, err := clientcmd.Load(raw)
	if err != nil {
		return s, err
	}
	for _, cl := range kc.Clusters {
		// The serving certificate is for 127.0.0.1, so TLS holds through the proxy.
		cl.Server = "https://" + s.proxy.Addr()
	}
	s.kubeconfig, err = clientcmd.Write(*kc)
	return s, err
}

// stop takes the spoke down: its proxy, then its control plane.
func (s *spoke) stop() {
	if s.proxy != nil {
		s.proxy.Cut()
	}
	s.cluster.Stop()
}

// kubeconfigSecret stores the spoke's kubeconfig in the hub as Secret namespace/name (key
// value), the way a platform team hands a spoke to the hub.
func (s *spoke) kubeconfigSecret(t *testing.T, ctx context.Context, namespace, name string) {
	t.Helper()
	apply(t, ctx, &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Data:       map[string][]byte{"value": s.kubeconfig},
	})
}

// configMap reads a ConfigMap of the spoke; nil when it does not exist.
func (s *spoke) configMap(t *testing.T, ctx context.Context, namespace, name string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{}
	err := s.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, cm)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("spoke %s: %v", s.name, err)
	}
	return cm
}

// waitConfigMap waits until the spoke's ConfigMap namespace/name has data key = value.
func (s *spoke) waitConfigMap(t *testing.T, ctx context.Context, namespace, name, key, value string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		cm := s.configMap(t, ctx, namespace, name)
		if cm != nil && cm.Data[key] == value {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("spoke %s: ConfigMap %s/%s has %s=%q after %s, want %q", s.name, namespace, name, key, dataOf(cm, key), timeout, value)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func dataOf(cm *corev1.ConfigMap, key string) string {
	if cm == nil {
		return "<missing>"
	}
	return cm.Data[key]
}
