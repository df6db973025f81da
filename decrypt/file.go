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
func (d *Decryptor) DecryptFile(path string, data []byte) (_ []byte, err error) {
	name := path
	defer func() {
		// The parsers are libraries fed with untrusted input; one bad
		// file must fail its reconciliation, not the controller.
		if r := recover(); r != nil {
			err = fmt.Errorf("file '%s': internal error while decrypting (malformed SOPS document)", name)
		}
	}()
	f := formatFor(path, data)
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
