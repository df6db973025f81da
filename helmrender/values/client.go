package values

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ClientGetter returns a Getter reading ConfigMaps and Secrets in namespace through c (a
// cached or direct controller-runtime reader).
func ClientGetter(c client.Reader, namespace string) Getter {
	return func(ctx context.Context, kind, name string) (map[string][]byte, error) {
		key := client.ObjectKey{Namespace: namespace, Name: name}
		switch kind {
		case KindConfigMap:
			cm := &corev1.ConfigMap{}
			if err := c.Get(ctx, key, cm); err != nil {
				return nil, notFound(err)
			}
			data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
			for k, v := range cm.BinaryData {
				data[k] = v
			}
			for k, v := range cm.Data {
				data[k] = []byte(v)
			}
			return data, nil
		case KindSecret:
			s := &corev1.Secret{}
			if err := c.Get(ctx, key, s); err != nil {
				return nil, notFound(err)
			}
			return s.Data, nil
		default:
			return nil, fmt.Errorf("unsupported kind %q", kind)
		}
	}
}

func notFound(err error) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}
