// Package events records what controllers do in two places: as Kubernetes Events (what
// `kubectl describe` and `flux events` show) and, when --events-addr is set, as a JSON POST in
// the event.toolkit.fluxcd.io format to notification-controller, which routes it to Alerts.
package events

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"os"
	"unicode/utf8"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1beta1"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"gotk.dev/pkg/redact"
)

// Severity of an event, as notification-controller filters on it.
const (
	SeverityInfo  = eventv1.EventSeverityInfo
	SeverityError = eventv1.EventSeverityError
	SeverityTrace = eventv1.EventSeverityTrace
)

// maxMessageLength is the longest message notification-controller accepts.
const maxMessageLength = 39000

// writers is the number of Kubernetes Event writers, and of the workers that forward events
// to notification-controller. client-go's broadcaster writes its
// events one request at a time and drops what does not fit its queue (1000 events): at the
// rate 20 workers reconcile, hundreds of events a second at 1000 Kustomizations, a single
// writer fell tens of seconds behind and dropped about half of them. Each object's events
// always go to the same writer, so they keep their order, and client-go's per-object
// aggregation and spam filter still see all of them.
const writers = 8

// Recorder emits events for one controller.
type Recorder struct {
	controller string
	instance   string
	scheme     *runtime.Scheme
	// k8s[i] records through broadcasters[i]; writerOf picks i for an object.
	k8s          []record.EventRecorder
	broadcasters []record.EventBroadcaster
	webhook      *webhookSender // nil without --events-addr
	log          logr.Logger
}

// Options configures a Recorder.
type Options struct {
	// Controller is the reporting controller name, e.g. "source-controller".
	Controller string
	// EventsAddr is notification-controller's event receiver URL; empty disables forwarding.
	EventsAddr string
	Scheme     *runtime.Scheme
	Log        logr.Logger
}

// NewRecorder creates a recorder writing Kubernetes Events through cfg. Start forwards to
// EventsAddr until its context ends, then flushes the queue and releases the broadcaster.
func NewRecorder(cfg *rest.Config, opts Options) (*Recorder, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	r := &Recorder{controller: opts.Controller, instance: host, scheme: opts.Scheme, log: opts.Log}
	sink := &typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")}
	for range writers {
		b := record.NewBroadcaster()
		b.StartRecordingToSink(sink)
		r.broadcasters = append(r.broadcasters, b)
		r.k8s = append(r.k8s, b.NewRecorder(opts.Scheme, corev1.EventSource{Component: opts.Controller}))
	}
	if opts.EventsAddr != "" {
		r.webhook, err = newWebhookSender(opts.EventsAddr, opts.Log)
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Start runs the webhook forwarder until ctx ends; it satisfies controller-runtime's Runnable
// so the manager owns its lifecycle. Kubernetes Events flow without it.
func (r *Recorder) Start(ctx context.Context) error {
	if r.webhook != nil {
		r.webhook.run(ctx)
	} else {
		<-ctx.Done()
	}
	for _, b := range r.broadcasters {
		b.Shutdown()
	}
	return nil
}

// writerOf returns the index of the writer of an object's events.
func writerOf(namespace, name string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(namespace + "/" + name))
	return int(h.Sum32() % writers)
}

// NeedLeaderElection lets every replica record events, leader or not.
func (r *Recorder) NeedLeaderElection() bool { return false }

// Event records an event about obj. Annotations keyed `<group>/<key>` (for example
// `source.toolkit.fluxcd.io/revision`) go on the Kubernetes Event and into the webhook
// payload's metadata as they are: notification-controller keeps the metadata keys that carry
// the involved object's group (or event.toolkit.fluxcd.io/) and strips that prefix before
// handing them to providers, so a key without its prefix would be dropped there.
func (r *Recorder) Event(obj client.Object, severity, reason, message string, annotations map[string]string) {
	message = redact.String(message)
	eventType := corev1.EventTypeNormal
	if severity == SeverityError {
		eventType = corev1.EventTypeWarning
	}
	if severity != SeverityTrace {
		r.k8s[writerOf(obj.GetNamespace(), obj.GetName())].AnnotatedEventf(obj, annotations, eventType, reason, "%s", message)
	}
	if r.webhook == nil {
		return
	}
	ev, err := r.payload(obj, severity, reason, message, annotations)
	if err != nil {
		r.log.Error(err, "cannot build event payload", "reason", reason)
		return
	}
	r.webhook.enqueue(ev)
}

// Eventf is Event with a format string and no annotations.
func (r *Recorder) Eventf(obj client.Object, severity, reason, format string, args ...any) {
	r.Event(obj, severity, reason, fmt.Sprintf(format, args...), nil)
}

func (r *Recorder) payload(obj client.Object, severity, reason, message string, annotations map[string]string) (*eventv1.Event, error) {
	gvk, err := apiutil.GVKForObject(obj, r.scheme)
	if err != nil {
		return nil, err
	}
	var meta map[string]string
	if len(annotations) > 0 {
		meta = make(map[string]string, len(annotations))
		maps.Copy(meta, annotations)
	}
	if len(message) > maxMessageLength {
		// Cut on a character boundary: a split UTF-8 sequence would reach notification-controller as U+FFFD.
		n := maxMessageLength
		for n > 0 && !utf8.RuneStart(message[n]) {
			n--
		}
		message = message[:n]
	}
	return &eventv1.Event{
		InvolvedObject: corev1.ObjectReference{
			Kind:            gvk.Kind,
			APIVersion:      gvk.GroupVersion().String(),
			Name:            obj.GetName(),
			Namespace:       obj.GetNamespace(),
			UID:             obj.GetUID(),
			ResourceVersion: obj.GetResourceVersion(),
		},
		Severity:            severity,
		Timestamp:           metav1.Now(),
		Message:             message,
		Reason:              reason,
		Metadata:            meta,
		ReportingController: r.controller,
		ReportingInstance:   r.instance,
	}, nil
}
