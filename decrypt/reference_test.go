package decrypt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The reference: decryption the way sops itself does it, through sops'
// stores, tree walk, AES cipher and key service API, with the decryptor's
// in-memory keys behind a key service. This is what the package did before
// it stopped linking sops (whose root package pulls in every cloud KMS
// SDK); the tests hold the package's own implementation to it, output byte
// for byte and success for success.

// refKeyServer answers sops' data key requests with the decryptor's keys.
type refKeyServer struct{ d *Decryptor }

func (s refKeyServer) Encrypt(context.Context, *keyservice.EncryptRequest) (*keyservice.EncryptResponse, error) {
	return nil, errors.New("encryption is not supported")
}

func (s refKeyServer) Decrypt(_ context.Context, req *keyservice.DecryptRequest) (*keyservice.DecryptResponse, error) {
	var (
		plain []byte
		err   error
	)
	switch req.GetKey().GetKeyType().(type) {
	case *keyservice.Key_AgeKey:
		plain, err = s.d.decryptAge(string(req.GetCiphertext()))
	case *keyservice.Key_PgpKey:
		plain, err = s.d.decryptPGP(string(req.GetCiphertext()))
	default:
		return nil, errors.New("unsupported key type")
	}
	if err != nil {
		return nil, err
	}
	return &keyservice.DecryptResponse{Plaintext: plain}, nil
}

func sopsFormat(f format) formats.Format {
	switch f {
	case formatYAML:
		return formats.Yaml
	case formatJSON:
		return formats.Json
	case formatDotenv:
		return formats.Dotenv
	case formatINI:
		return formats.Ini
	}
	return formats.Binary
}

// refDecryptTree decrypts a loaded sops tree and checks its MAC.
func refDecryptTree(d *Decryptor, tree *sops.Tree, policy macPolicy) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	if tree.Metadata.Version == "" && tree.Metadata.MessageAuthenticationCode == "" {
		return errors.New("no version and no mac")
	}
	svc := keyservice.NewCustomLocalClient(refKeyServer{d})
	key, err := tree.Metadata.GetDataKeyWithKeyServices([]keyservice.KeyServiceClient{svc}, sops.DefaultDecryptionOrder)
	if err != nil {
		return err
	}
	cipher := aes.NewCipher()
	computed, err := tree.Decrypt(key, cipher)
	if err != nil {
		return err
	}
	stored, err := cipher.Decrypt(tree.Metadata.MessageAuthenticationCode, key, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil {
		return err
	}
	if policy == macFull && stored != computed {
		return errors.New("MAC mismatch")
	}
	return nil
}

// refDecryptFile is DecryptFile done by sops.
func refDecryptFile(d *Decryptor, path string, data []byte) (_ []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	store := common.StoreForFormat(sopsFormat(formatFor(path, data)), config.NewStoresConfig())
	tree, err := store.LoadEncryptedFile(data)
	if err != nil {
		return nil, err
	}
	if err := refDecryptTree(d, &tree, macFull); err != nil {
		return nil, err
	}
	return store.EmitPlainFile(tree.Branches)
}

// refDecryptObject is the decryption of an object with SOPS metadata done
// by sops; it returns the decrypted object.
func refDecryptObject(d *Decryptor, obj *unstructured.Unstructured) (map[string]any, error) {
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	store := common.StoreForFormat(formats.Json, config.NewStoresConfig())
	tree, err := store.LoadEncryptedFile(data)
	if err != nil {
		return nil, err
	}
	if err := refDecryptTree(d, &tree, macStored); err != nil {
		return nil, err
	}
	if len(tree.Branches) != 1 {
		return nil, errors.New("unexpected layout")
	}
	v, err := refPlainValue(tree.Branches[0])
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// refPlainValue converts a decrypted sops tree into unstructured's types.
func refPlainValue(v any) (any, error) {
	switch v := v.(type) {
	case sops.TreeBranch:
		m := make(map[string]any, len(v))
		for _, item := range v {
			if _, isComment := item.Key.(sops.Comment); isComment {
				continue
			}
			k, ok := item.Key.(string)
			if !ok {
				return nil, fmt.Errorf("non-string key of type %T", item.Key)
			}
			pv, err := refPlainValue(item.Value)
			if err != nil {
				return nil, err
			}
			m[k] = pv
		}
		return m, nil
	case []any:
		s := make([]any, 0, len(v))
		for _, e := range v {
			if _, isComment := e.(sops.Comment); isComment {
				continue
			}
			pv, err := refPlainValue(e)
			if err != nil {
				return nil, err
			}
			s = append(s, pv)
		}
		return s, nil
	case string, bool, int64, float64, nil:
		return v, nil
	case int:
		return int64(v), nil
	case []byte:
		return string(v), nil
	case time.Time:
		return v.Format(time.RFC3339Nano), nil
	}
	return nil, fmt.Errorf("value of unexpected type %T", v)
}
