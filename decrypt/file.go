package decrypt

import (
	"fmt"
)

// DecryptFile decrypts a SOPS-encrypted file and returns its plaintext in
// the same format: YAML, JSON, dotenv or INI by extension as the sops CLI
// decides (.yaml/.yml, .json, .env, .ini), otherwise by content, and binary
// (the original bytes) for anything else. The full SOPS MAC is verified.
// The build step uses it, through an overlay filesystem, for files that
// kustomize generators read. Errors name the file by path as given but
// never quote its content.
func (d *Decryptor) DecryptFile(path string, data []byte) ([]byte, error) {
	return d.decryptFile(path, formatFor(path, data), data)
}

// DecryptFileAs is DecryptFile with the format chosen by the name as (its extension, else
// the content), for files whose own name does not say it: a secretGenerator "envs" source is
// dotenv whatever its name ("as" = ".env"), and a "files" source takes the format of its
// Secret key, as upstream Flux documents (config.json=config.json.encrypted). Errors name
// path.
func (d *Decryptor) DecryptFileAs(path, as string, data []byte) ([]byte, error) {
	return d.decryptFile(path, formatFor(as, data), data)
}

func (d *Decryptor) decryptFile(name string, f format, data []byte) (_ []byte, err error) {
	defer func() {
		// The parsers are libraries fed with untrusted input; one bad
		// file must fail its reconciliation, not the controller.
		if r := recover(); r != nil {
			err = fmt.Errorf("file '%s': internal error while decrypting (malformed SOPS document)", name)
		}
	}()
	docs, md, err := loadEncrypted(f, data)
	if err != nil {
		// Parser messages can quote a line of the file.
		return nil, fmt.Errorf("file '%s' is not a SOPS-encrypted %s document", name, f)
	}
	if err := d.decryptDocument(docs, md, macFull); err != nil {
		return nil, fmt.Errorf("file '%s': %w", name, err)
	}
	out, err := f.emit(docs)
	if err != nil {
		return nil, fmt.Errorf("file '%s': cannot write the decrypted document", name)
	}
	return out, nil
}

// loadEncrypted parses an encrypted document and takes its metadata out.
func loadEncrypted(f format, data []byte) ([]mapping, *metadata, error) {
	docs, err := f.load(data)
	if err != nil {
		return nil, nil, err
	}
	return extractMetadata(docs, f.layout())
}
