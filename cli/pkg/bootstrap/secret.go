package bootstrap

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gotk.dev/cli/pkg/kube"
)

// reconcileSecret creates the Git credentials Secret unless it exists: an existing one may
// hold a key that was given access already, and regenerating it would lock the cluster out.
func (b *Bootstrapper) reconcileSecret(ctx context.Context, deadline time.Time) error {
	key := client.ObjectKey{Namespace: b.Install.Namespace, Name: b.SecretName}
	if b.DisableSecretCreation {
		b.Log.Successf("source secret %q is left to the user (creation disabled)", key)
		return nil
	}
	b.Log.Actionf("determining if source secret %q exists", key)
	_, err := b.Kube.Clientset.CoreV1().Secrets(key.Namespace).Get(ctx, key.Name, metav1.GetOptions{})
	switch {
	case err == nil:
		b.Log.Successf("source secret up to date")
		return nil
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("get Secret %s: %w", key, err)
	}
	b.Log.Actionf("generating source secret")
	var undos []func(context.Context) error
	creds := b.Credentials
	if b.BeforeSecret != nil {
		undo, err := b.BeforeSecret(ctx, &creds)
		if err != nil {
			return err
		}
		undos = append(undos, undo)
	}
	data, publicKey, err := creds.Data(ctx, min(kube.ConnectTimeout, time.Until(deadline)))
	if err != nil {
		return errors.Join(err, runUndos(ctx, undos))
	}
	if publicKey != nil {
		b.Log.Successf("public key: %s", strings.TrimSpace(string(publicKey)))
		if b.OnPublicKey != nil {
			undo, err := b.OnPublicKey(ctx, publicKey)
			if err != nil {
				return errors.Join(err, runUndos(ctx, undos))
			}
			undos = append(undos, undo)
		}
	}
	b.Log.Actionf("applying source secret %q", key)
	encoded := map[string]any{}
	for k, v := range data {
		encoded[k] = base64.StdEncoding.EncodeToString(v)
	}
	secret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": key.Name, "namespace": key.Namespace},
		"data":     encoded,
	}}
	if _, err := b.Kube.Apply(ctx, secret); err != nil {
		// What was registered for the Secret (a deploy key or token) is held by nothing
		// now: take it back.
		return errors.Join(err, runUndos(ctx, undos))
	}
	b.Log.Successf("reconciled source secret")
	return nil
}

// runUndos takes back what hooks registered, newest first; its error says what is left.
func runUndos(ctx context.Context, undos []func(context.Context) error) error {
	var errs []error
	for i := len(undos) - 1; i >= 0; i-- {
		if undos[i] == nil {
			continue
		}
		if err := undos[i](context.WithoutCancel(ctx)); err != nil {
			errs = append(errs, fmt.Errorf("could not remove the credentials registered for the Secret: %w", err))
		}
	}
	return errors.Join(errs...)
}
