package decrypt

import (
	"bytes"
	"strings"
)

// format is one of the document formats SOPS encrypts.
type format int

const (
	formatBinary format = iota
	formatDotenv
	formatINI
	formatJSON
	formatYAML
)

// formatFor picks the format of a file: by extension as the sops CLI does
// (.yaml/.yml, .json, .env, .ini), else by content, else binary.
func formatFor(path string, data []byte) format {
	switch {
	case strings.HasSuffix(path, ".yaml"), strings.HasSuffix(path, ".yml"):
		return formatYAML
	case strings.HasSuffix(path, ".json"):
		return formatJSON
	case strings.HasSuffix(path, ".env"):
		return formatDotenv
	case strings.HasSuffix(path, ".ini"):
		return formatINI
	}
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.Contains(data, []byte("sops_mac=ENC[")):
		return formatDotenv
	case bytes.Contains(data, []byte("[sops]")):
		return formatINI
	case len(trimmed) > 0 && trimmed[0] == '{':
		// What sops writes for a file of unknown type: {"data": ..., "sops": ...}.
		return formatBinary
	case yamlMetadata.Match(data):
		return formatYAML
	}
	return formatBinary
}

func (f format) String() string {
	switch f {
	case formatYAML:
		return "YAML"
	case formatJSON:
		return "JSON"
	case formatDotenv:
		return "dotenv"
	case formatINI:
		return "INI"
	}
	return "binary"
}

// load parses a document into its mappings (several for a YAML stream).
func (f format) load(data []byte) ([]mapping, error) {
	switch f {
	case formatYAML:
		return loadYAML(data)
	case formatDotenv:
		return loadDotenv(data)
	case formatINI:
		return loadINI(data)
	}
	// A binary file is encrypted into a JSON document {"data": ...}.
	return loadJSON(data)
}

// layout says where the format keeps the SOPS metadata.
func (f format) layout() metadataLayout {
	switch f {
	case formatDotenv:
		return metadataFlat
	case formatINI:
		return metadataBelowTop
	}
	return metadataNested
}

// emit writes decrypted mappings back in the format, as sops --decrypt
// does, byte for byte.
func (f format) emit(docs []mapping) ([]byte, error) {
	switch f {
	case formatYAML:
		return emitYAML(docs)
	case formatJSON:
		return emitJSON(docs)
	case formatDotenv:
		return emitDotenv(docs)
	case formatINI:
		return emitINI(docs)
	}
	return emitBinary(docs)
}
