package controller

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	apiv1 "gotk.dev/notification-controller/api/v1"
	"gotk.dev/notification-controller/internal/receiver"
	"gotk.dev/pkg/manager"
)

// webhookPathIndex indexes Receivers by status.webhookPath, so a request finds its Receiver
// in the cache.
const webhookPathIndex = ".status.webhookPath"

// webhookTimeout bounds the handling of one webhook (validation, listing and annotating).
const webhookTimeout = 30 * time.Second

// ReceiverServerConfig is what a ReceiverServer is built from.
type ReceiverServerConfig struct {
	// Addr is --receiverAddr.
	Addr string
	// NoCrossNamespaceRefs (--no-cross-namespace-refs) refuses resources in other
	// namespaces than the Receiver's.
	NoCrossNamespaceRefs bool
	// Validator checks requests; nil builds one with the defaults.
	Validator *receiver.Validator
}

// ReceiverServer serves the Receivers' webhooks on --receiverAddr: a request to a Receiver's
// status.webhookPath is validated for its type (signature, token, OIDC identity, event) and,
// when valid, the Receiver's resources are annotated with reconcile.fluxcd.io/requestedAt.
type ReceiverServer struct {
	*httpServer
	config  ReceiverServerConfig
	client  client.Client
	reader  client.Reader
	targets *targetResolver
	log     logr.Logger
}

// NewReceiverServer binds --receiverAddr, registers the webhook path index and adds the server
// to rt's manager (on every replica) with a readiness check.
func NewReceiverServer(rt *manager.Runtime, c ReceiverServerConfig) (*ReceiverServer, error) {
	if c.Validator == nil {
		c.Validator = receiver.NewValidator(receiver.Options{})
	}
	if err := rt.Manager.GetFieldIndexer().IndexField(context.Background(), &apiv1.Receiver{}, webhookPathIndex,
		func(o client.Object) []string {
			if p := o.(*apiv1.Receiver).Status.WebhookPath; p != "" {
				return []string{p}
			}
			return nil
		}); err != nil {
		return nil, err
	}
	s := &ReceiverServer{config: c, client: rt.Manager.GetClient(), reader: rt.Manager.GetAPIReader(),
		log: rt.Log.WithName("receiver-server")}
	s.targets = &targetResolver{reader: s.reader, writer: s.client, mapper: rt.Manager.GetRESTMapper()}
	mux := http.NewServeMux()
	mux.HandleFunc(apiv1.ReceiverWebhookPath, s.serveHook)
	var err error
	if s.httpServer, err = newHTTPServer("webhook receiver server", "--receiverAddr", c.Addr, mux); err != nil {
		return nil, err
	}
	if err := rt.Manager.Add(s); err != nil {
		return nil, err
	}
	return s, rt.Manager.AddReadyzCheck("webhook-receiver", s.ready)
}

// serveHook handles one webhook. Nothing about a Receiver is revealed to a caller that does
// not know its path (404), and a request that fails validation triggers nothing.
func (s *ReceiverServer) serveHook(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), webhookTimeout)
	defer cancel()
	rcv, token, err := s.lookup(ctx, r.URL.Path)
	if err != nil {
		s.log.Error(err, "webhook receiver lookup failed", "path", r.URL.Path)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if rcv == nil {
		http.NotFound(w, r)
		return
	}
	log := s.log.WithValues("receiver", rcv.Namespace+"/"+rcv.Name, "type", rcv.Spec.Type)
	d := s.config.Validator.Validate(ctx, r, receiver.Config{Receiver: rcv, Token: string(token.Data["token"]), GCR: gcrConfig(token)})
	if !d.Trigger {
		if d.Status >= 400 {
			log.Info("webhook refused", "status", d.Status, "reason", d.Message)
			http.Error(w, d.Message, d.Status)
			return
		}
		writeMessage(w, d.Status, d.Message)
		return
	}
	sel, err := receiver.NewSelector(rcv, s.config.NoCrossNamespaceRefs)
	if err != nil {
		log.Error(err, "invalid Receiver")
		http.Error(w, fmt.Sprintf("Receiver %s/%s is invalid: %v", rcv.Namespace, rcv.Name, err), http.StatusBadRequest)
		return
	}
	targets, err := sel.Select(ctx, s.targets.list, d.Payload)
	if err != nil {
		log.Error(err, "selecting the Receiver's resources")
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	requestedAt := time.Now().Format(time.RFC3339Nano)
	var errs []error
	for _, t := range targets {
		if err := s.targets.requestReconcile(ctx, t, requestedAt); err != nil {
			errs = append(errs, err)
			continue
		}
		log.Info("resource annotated", "target", t.Kind+"/"+t.Namespace+"/"+t.Name, "event", d.Event)
	}
	if err := errors.Join(errs...); err != nil {
		log.Error(err, "annotating the Receiver's resources")
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeMessage(w, http.StatusOK, "")
}

// lookup finds the Receiver served at path and its token Secret. The path must match the
// token read now: a status still carrying the path of a rotated token serves nothing.
func (s *ReceiverServer) lookup(ctx context.Context, path string) (*apiv1.Receiver, *corev1.Secret, error) {
	if !strings.HasPrefix(path, apiv1.ReceiverWebhookPath) || len(path) == len(apiv1.ReceiverWebhookPath) {
		return nil, nil, nil
	}
	var list apiv1.ReceiverList
	if err := s.client.List(ctx, &list, client.MatchingFields{webhookPathIndex: path}); err != nil {
		return nil, nil, err
	}
	for i := range list.Items {
		rcv := &list.Items[i]
		if rcv.Spec.SecretRef == nil {
			continue
		}
		var secret corev1.Secret
		if err := s.reader.Get(ctx, types.NamespacedName{Namespace: rcv.Namespace, Name: rcv.Spec.SecretRef.Name}, &secret); err != nil {
			if client.IgnoreNotFound(err) == nil {
				continue
			}
			return nil, nil, err
		}
		want := receiver.WebhookPath(string(secret.Data["token"]), rcv.Name, rcv.Namespace)
		if subtle.ConstantTimeCompare([]byte(want), []byte(path)) == 1 {
			return rcv, &secret, nil
		}
	}
	return nil, nil, nil
}

// gcrConfig is the expected identity of a gcr Receiver's Pub/Sub push tokens, from the token
// Secret: `audience` (the audience the push subscription was configured with, usually the
// webhook URL) and `email` (the subscription's service account). Both are required: the
// audience is never derived from the request, whose Host header the caller chooses.
func gcrConfig(secret *corev1.Secret) receiver.GCRConfig {
	return receiver.GCRConfig{
		Audience: strings.TrimSpace(string(secret.Data["audience"])),
		Email:    strings.TrimSpace(string(secret.Data["email"])),
	}
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	if msg != "" {
		_, _ = fmt.Fprintln(w, msg)
	}
}
