package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

var getOpts = metav1.GetOptions{}

// startKwok runs kwok over nodes annotated kwok.x-k8s.io/node=fake and registers opts.Nodes
// such nodes. kwok plays kubelet: it marks nodes Ready and moves scheduled pods to Running and
// Ready, so Deployments become Available without containers.
func (c *Cluster) startKwok(ctx context.Context, cs kubernetes.Interface) error {
	stageDir := filepath.Join(c.opts.BinDir, "kwok-stages")
	stages, _ := filepath.Glob(filepath.Join(stageDir, "*.yaml"))
	if len(stages) == 0 {
		return fmt.Errorf("no kwok stage definitions in %s: run `make testbin`", stageDir)
	}
	c.opts.Logf("starting kwok with %d node(s)", c.opts.Nodes)
	p, err := c.start("kwok", []string{
		"--kubeconfig=" + c.Kubeconfig,
		"--config=" + strings.Join(stages, ","),
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-lease-duration-seconds=40",
		"--cidr=10.244.0.0/16",
		"--node-ip=127.0.0.1",
	})
	if err != nil {
		return err
	}
	// kwok reads $HOME/.kwok for defaults; keep it out of the user's home.
	_ = os.MkdirAll(filepath.Join(c.opts.Dir, "kwok"), 0o755)

	for i := 0; i < c.opts.Nodes; i++ {
		if err := createNode(ctx, cs, fmt.Sprintf("kwok-node-%d", i)); err != nil {
			return err
		}
	}
	return p.waitFor(ctx, 60*time.Second, "managing its nodes", func() error {
		for i := 0; i < c.opts.Nodes; i++ {
			name := fmt.Sprintf("kwok-node-%d", i)
			node, err := cs.CoreV1().Nodes().Get(ctx, name, getOpts)
			if err != nil {
				return err
			}
			if !nodeReady(node) {
				return fmt.Errorf("node %s not Ready yet", name)
			}
			if err := untaint(ctx, cs, node); err != nil {
				return err
			}
		}
		return nil
	})
}

func createNode(ctx context.Context, cs kubernetes.Interface, name string) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{
				"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
				"kubernetes.io/role": "agent", "type": "kwok",
			},
		},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("1000"), corev1.ResourceMemory: resource.MustParse("4Ti"),
				corev1.ResourcePods: resource.MustParse("10000"),
			},
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("1000"), corev1.ResourceMemory: resource.MustParse("4Ti"),
				corev1.ResourcePods: resource.MustParse("10000"),
			},
		},
	}
	_, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func nodeReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// untaint removes the not-ready taint a new node is born with; the node lifecycle controller
// that normally removes it is not run (it would fight kwok over node health).
func untaint(ctx context.Context, cs kubernetes.Interface, node *corev1.Node) error {
	var keep []corev1.Taint
	for _, t := range node.Spec.Taints {
		if t.Key != corev1.TaintNodeNotReady {
			keep = append(keep, t)
		}
	}
	if len(keep) == len(node.Spec.Taints) {
		return nil
	}
	node.Spec.Taints = keep
	_, err := cs.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
	return err
}
