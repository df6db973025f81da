package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// LogStream is one controller's log: a pod's container or a file.
type LogStream struct {
	// Name says where the lines come from, for errors ("pod flux-system/source-controller-x").
	Name string
	io.ReadCloser
}

// LogSource yields the controller logs flux logs reads. Pods are the source in a cluster;
// files serve controllers that run as plain processes (tests, local development).
type LogSource interface {
	Open(ctx context.Context) ([]LogStream, error)
}

// logReadOptions are what a source honours: --follow, --tail (negative for all) and --since.
type logReadOptions struct {
	Follow bool
	Tail   int64
	Since  time.Time // zero for no limit
}

// fluxControllerApps are the app labels of the Flux controllers, for installations whose
// pods lack app.kubernetes.io/part-of=flux.
func fluxControllerApps() []string {
	return []string{
		"source-controller", "kustomize-controller", "helm-controller", "notification-controller",
		"image-reflector-controller", "image-automation-controller",
	}
}

// podLogSource reads the logs of the Flux controller pods through the API (pods/log).
type podLogSource struct {
	clientset kubernetes.Interface
	namespace string
	opts      logReadOptions
}

func (s *podLogSource) Open(ctx context.Context) ([]LogStream, error) {
	pods, err := s.pods(ctx)
	if err != nil {
		return nil, err
	}
	var streams []LogStream
	for _, pod := range pods {
		container := managerContainer(&pod)
		po := &corev1.PodLogOptions{Container: container, Follow: s.opts.Follow}
		if s.opts.Tail >= 0 {
			po.TailLines = &s.opts.Tail
		}
		if !s.opts.Since.IsZero() {
			t := metav1.NewTime(s.opts.Since)
			po.SinceTime = &t
		}
		name := fmt.Sprintf("pod %s/%s (container %s)", pod.Namespace, pod.Name, container)
		rc, err := s.clientset.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, po).Stream(ctx)
		if err != nil {
			closeStreams(streams)
			return nil, fmt.Errorf("reading the logs of %s: %w", name, err)
		}
		streams = append(streams, LogStream{Name: name, ReadCloser: rc})
	}
	return streams, nil
}

// pods lists the controller pods: those labelled app.kubernetes.io/part-of=flux, or else
// those whose app label names a Flux controller.
func (s *podLogSource) pods(ctx context.Context) ([]corev1.Pod, error) {
	for _, selector := range []string{
		"app.kubernetes.io/part-of=flux",
		"app in (" + strings.Join(fluxControllerApps(), ",") + ")",
	} {
		list, err := s.clientset.CoreV1().Pods(s.namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return nil, fmt.Errorf("listing the Flux controller pods in namespace %s: %w", s.namespace, err)
		}
		if len(list.Items) > 0 {
			return list.Items, nil
		}
	}
	return nil, fmt.Errorf("no Flux controller pods found in namespace %s (labelled app.kubernetes.io/part-of=flux); is Flux installed there? (set --flux-namespace)", s.namespace)
}

// managerContainer is the container that runs the controller: "manager" in Flux's
// manifests, else the first one.
func managerContainer(pod *corev1.Pod) string {
	for _, c := range pod.Spec.Containers {
		if c.Name == "manager" {
			return c.Name
		}
	}
	if len(pod.Spec.Containers) > 0 {
		return pod.Spec.Containers[0].Name
	}
	return ""
}

func closeStreams(streams []LogStream) {
	for _, s := range streams {
		s.Close()
	}
}

// fileLogSource reads controller logs from files (one per controller). --tail keeps the
// last lines of each file; --follow keeps reading what is appended, like tail -f.
type fileLogSource struct {
	paths []string
	opts  logReadOptions
}

func (s *fileLogSource) Open(ctx context.Context) ([]LogStream, error) {
	var streams []LogStream
	for _, p := range s.paths {
		f, err := os.Open(p)
		if err != nil {
			closeStreams(streams)
			return nil, fmt.Errorf("reading logs: %w", err)
		}
		var r io.Reader = f
		if s.opts.Tail >= 0 {
			tail, err := lastLines(f, s.opts.Tail)
			if err != nil {
				f.Close()
				closeStreams(streams)
				return nil, fmt.Errorf("reading logs from %s: %w", p, err)
			}
			r = strings.NewReader(tail)
		}
		if s.opts.Follow {
			r = io.MultiReader(r, &followReader{ctx: ctx, f: f})
		}
		streams = append(streams, LogStream{Name: "file " + p, ReadCloser: readCloser{Reader: r, Closer: f}})
	}
	return streams, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// lastLines reads f to its end and returns its last n lines (n >= 0), leaving f at its end.
func lastLines(f *os.File, n int64) (string, error) {
	if n == 0 {
		_, err := f.Seek(0, io.SeekEnd)
		return "", err
	}
	ring := make([]string, 0, min(n, 1024))
	start := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text() + "\n"
		if int64(len(ring)) < n {
			ring = append(ring, line)
			continue
		}
		ring[start] = line
		start = (start + 1) % len(ring)
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return strings.Join(append(ring[start:], ring[:start]...), ""), nil
}

// followReader reads a file that is still being written: at its end it waits for more
// until ctx ends, then reports EOF.
type followReader struct {
	ctx context.Context
	f   *os.File
}

// followPoll is how often a followed file is checked for new lines.
const followPoll = 200 * time.Millisecond

func (r *followReader) Read(p []byte) (int, error) {
	for {
		n, err := r.f.Read(p)
		if n > 0 || (err != nil && !errors.Is(err, io.EOF)) {
			return n, err
		}
		select {
		case <-r.ctx.Done():
			return 0, io.EOF
		case <-time.After(followPoll):
		}
	}
}
