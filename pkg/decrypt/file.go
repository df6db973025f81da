package decrypt

import (
	"errors"
	"fmt"

	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/config"
)

// DecryptFile decrypts a SOPS-encrypted file and returns its plaintext in
// the same format: YAML, JSON, dotenv or INI by extension as the sops CLI
// decides (.yaml/.yml, .json, .env, .ini), otherwise by content, and binary
// (the original bytes) for anything else. The full SOPS MAC is verified.
// The build step uses it, through an overlay filesystem, for files that
// kustomize generators read. Errors name the file by path as given but
// never quote its content.
func (d *Decryptor) DecryptFile(path string, data []byte) (_ []byte, err error) {
	name := path
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("file '%s': internal error while decrypting (malformed SOPS document)", name)
		}
	}()
	format := formatFor(path, data)
	store := common.StoreForFormat(format, config.NewStoresConfig())
	tree, err := store.LoadEncryptedFile(data)
	if err != nil {
		// The stores' messages can quote a line of the file.
		return nil, fmt.Errorf("file '%s' is not a SOPS-encrypted %s document", name, formatName(format))
	}
	if err := d.decryptTree(&tree, macFull); err != nil {
		return nil, fmt.Errorf("file '%s': %w", name, err)
	}
	out, err := store.EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, fmt.Errorf("file '%s': %w", name, errors.New("cannot write the decrypted document"))
	}
	return out, nil
}

func formatName(f formats.Format) string {
	switch f {
	case formats.Yaml:
		return "YAML"
	case formats.Json:
		return "JSON"
	case formats.Dotenv:
		return "dotenv"
	case formats.Ini:
		return "INI"
	}
	return "binary"
}
