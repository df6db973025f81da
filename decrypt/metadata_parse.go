package decrypt

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// errInvalidMetadata is the one error for metadata that SOPS would not
// load. Field values are never quoted.
var errInvalidMetadata = errors.New("invalid SOPS metadata")

// parseMetadata reads the "sops" section. Like SOPS, which decodes it with
// weakly typed input (flattened dotenv and INI metadata is all strings),
// it converts between strings, numbers and booleans, accepts a single key
// where a list is expected, and matches field names case-insensitively when
// there is no exact match.
func parseMetadata(m map[string]any) (*metadata, error) {
	var errs []error
	str := func(name string) string {
		s, err := weakString(field(m, name))
		errs = append(errs, err)
		return s
	}
	md := &metadata{
		mac:                     str("mac"),
		version:                 str("version"),
		unencryptedSuffix:       str("unencrypted_suffix"),
		encryptedSuffix:         str("encrypted_suffix"),
		unencryptedRegex:        str("unencrypted_regex"),
		encryptedRegex:          str("encrypted_regex"),
		unencryptedCommentRegex: str("unencrypted_comment_regex"),
		encryptedCommentRegex:   str("encrypted_comment_regex"),
	}
	lastModified := str("lastmodified")
	var err error
	md.shamirThreshold, err = weakInt(field(m, "shamir_threshold"))
	errs = append(errs, err)
	md.macOnlyEncrypted, err = weakBool(field(m, "mac_only_encrypted"))
	errs = append(errs, err)
	top, err := parseKeyGroup(m)
	errs = append(errs, err)
	groups, err := structList(field(m, "key_groups"))
	errs = append(errs, err)
	var keyGroups [][]rawKey
	for _, g := range groups {
		keys, err := parseKeyGroup(g)
		errs = append(errs, err)
		keyGroups = append(keyGroups, keys)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	if md.lastModified, err = time.Parse(time.RFC3339, lastModified); err != nil {
		return nil, fmt.Errorf("%w: lastmodified is not an RFC 3339 date", errInvalidMetadata)
	}
	// Keys listed at the top level make the one group, and key_groups is
	// then ignored.
	if len(top) > 0 {
		keyGroups = [][]rawKey{top}
	}
	if len(keyGroups) == 0 {
		return nil, fmt.Errorf("%w: no keys", errInvalidMetadata)
	}
	for _, g := range keyGroups {
		keys, err := masterKeys(g)
		if err != nil {
			return nil, err
		}
		md.keyGroups = append(md.keyGroups, keys)
	}
	rules := 0
	for _, r := range []string{md.unencryptedSuffix, md.encryptedSuffix, md.unencryptedRegex, md.encryptedRegex, md.unencryptedCommentRegex, md.encryptedCommentRegex} {
		if r != "" {
			rules++
		}
	}
	switch {
	case rules > 1:
		return nil, fmt.Errorf("%w: more than one of the encrypted/unencrypted suffix and regex rules", errInvalidMetadata)
	case rules == 0:
		md.unencryptedSuffix = defaultUnencryptedSuffix
	}
	return md, nil
}

// keyTypes lists the master key types of a key group in the order SOPS
// loads them, with the fields that name a key.
var keyTypes = []struct {
	kind   string
	fields []string
}{
	{"kms", []string{"arn", "role", "aws_profile"}},
	{"gcp_kms", []string{"resource_id"}},
	{"hckms", []string{"key_id"}},
	{"azure_kv", []string{"vault_url", "name", "version"}},
	{"hc_vault", []string{"vault_address", "engine_path", "key_name"}},
	{"pgp", []string{"fp"}},
	{"age", []string{"recipient"}},
}

// rawKey is a master key as listed, before the checks SOPS makes only on
// the keys it uses.
type rawKey struct {
	kind    string
	values  map[string]string
	context map[string]string
}

// parseKeyGroup reads the master keys of one key group (or of the top
// level of the metadata).
func parseKeyGroup(group map[string]any) ([]rawKey, error) {
	var keys []rawKey
	for _, kt := range keyTypes {
		list, err := structList(field(group, kt.kind))
		if err != nil {
			return nil, err
		}
		for _, k := range list {
			rk := rawKey{kind: kt.kind, values: map[string]string{}}
			fields := append([]string{"enc"}, kt.fields...)
			if kt.kind != "age" {
				fields = append(fields, "created_at")
			}
			for _, f := range fields {
				if rk.values[f], err = weakString(field(k, f)); err != nil {
					return nil, err
				}
			}
			if kt.kind == "kms" {
				if rk.context, err = weakStringMap(field(k, "context")); err != nil {
					return nil, err
				}
			}
			keys = append(keys, rk)
		}
	}
	return keys, nil
}

// masterKeys checks the keys of a group that is used, as SOPS does when it
// loads them: dates must parse, HuaweiCloud key IDs must be region:uuid.
func masterKeys(raw []rawKey) ([]masterKey, error) {
	keys := make([]masterKey, 0, len(raw))
	for _, rk := range raw {
		if rk.kind != "age" {
			if _, err := time.Parse(time.RFC3339, rk.values["created_at"]); err != nil {
				return nil, fmt.Errorf("%w: a %s key's created_at is not an RFC 3339 date", errInvalidMetadata, rk.kind)
			}
		}
		id, err := keyID(rk.kind, rk.values, rk.context)
		if err != nil {
			return nil, err
		}
		keys = append(keys, masterKey{kind: rk.kind, id: id, enc: rk.values["enc"], values: rk.values, context: rk.context})
	}
	return keys, nil
}

// keyID names a master key the way SOPS prints it.
func keyID(kind string, v map[string]string, context map[string]string) (string, error) {
	switch kind {
	case "kms":
		id := v["arn"]
		if v["role"] != "" {
			id += "+" + v["role"]
		}
		var pairs []string
		for _, k := range slices.Sorted(maps.Keys(context)) {
			pairs = append(pairs, k+":"+context[k])
		}
		ctx := strings.Join(pairs, ",")
		switch {
		case v["aws_profile"] != "":
			return id + "|" + ctx + "|" + v["aws_profile"], nil
		case ctx != "":
			return id + "|" + ctx, nil
		}
		return id, nil
	case "gcp_kms":
		return v["resource_id"], nil
	case "hckms":
		region, uuid, ok := strings.Cut(strings.TrimSpace(v["key_id"]), ":")
		if !ok || strings.TrimSpace(region) == "" || strings.TrimSpace(uuid) == "" {
			return "", fmt.Errorf("%w: an hckms key_id is not region:key-uuid", errInvalidMetadata)
		}
		return v["key_id"], nil
	case "azure_kv":
		return fmt.Sprintf("%s/keys/%s/%s", v["vault_url"], v["name"], v["version"]), nil
	case "hc_vault":
		return fmt.Sprintf("%s/v1/%s/keys/%s", v["vault_address"], v["engine_path"], v["key_name"]), nil
	case "pgp":
		return v["fp"], nil
	}
	return v["recipient"], nil
}

// field looks a field up by its exact name, else case-insensitively (the
// first such key in sorted order).
func field(m map[string]any, name string) any {
	if v, ok := m[name]; ok {
		return v
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.EqualFold(k, name) {
			return m[k]
		}
	}
	return nil
}

// structList reads a list of mappings; a single mapping is a list of one,
// an empty mapping or nothing is an empty list.
func structList(v any) ([]map[string]any, error) {
	var items []any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []any:
		items = v
	case map[string]any:
		if len(v) == 0 {
			return nil, nil
		}
		items = []any{v}
	default:
		items = []any{v}
	}
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		switch it := it.(type) {
		case nil:
			out = append(out, nil)
		case map[string]any:
			out = append(out, it)
		default:
			return nil, fmt.Errorf("%w: a key list holds something other than keys", errInvalidMetadata)
		}
	}
	return out, nil
}

// weakString converts a scalar to a string as SOPS' metadata decoding does:
// booleans become "1" or "0", numbers their decimal text; nothing is "".
func weakString(v any) (string, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Invalid:
		return "", nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		if rv.Bool() {
			return "1", nil
		}
		return "0", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'f', -1, 64), nil
	case reflect.Slice:
		if b, ok := v.([]byte); ok {
			return string(b), nil
		}
		if rv.IsNil() {
			return "", nil
		}
	case reflect.Map:
		if rv.IsNil() {
			return "", nil
		}
	}
	return "", fmt.Errorf("%w: a field that should be text holds a %T", errInvalidMetadata, v)
}

func weakInt(v any) (int, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Invalid:
		return 0, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return int(rv.Float()), nil
	case reflect.Bool:
		if rv.Bool() {
			return 1, nil
		}
		return 0, nil
	case reflect.String:
		s := rv.String()
		if s == "" {
			return 0, nil
		}
		i, err := strconv.ParseInt(s, 0, 0)
		if err != nil {
			return 0, fmt.Errorf("%w: shamir_threshold is not a number", errInvalidMetadata)
		}
		return int(i), nil
	case reflect.Slice, reflect.Map:
		if rv.IsNil() {
			return 0, nil
		}
	}
	return 0, fmt.Errorf("%w: shamir_threshold is not a number", errInvalidMetadata)
}

func weakBool(v any) (bool, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Invalid:
		return false, nil
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int() != 0, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint() != 0, nil
	case reflect.Float32, reflect.Float64:
		return rv.Float() != 0, nil
	case reflect.String:
		s := rv.String()
		if s == "" {
			return false, nil
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			return false, fmt.Errorf("%w: mac_only_encrypted is not a boolean", errInvalidMetadata)
		}
		return b, nil
	case reflect.Slice, reflect.Map:
		if rv.IsNil() {
			return false, nil
		}
	}
	return false, fmt.Errorf("%w: mac_only_encrypted is not a boolean", errInvalidMetadata)
}

// weakStringMap reads a KMS encryption context: a mapping of strings, or a
// list of mappings that are merged.
func weakStringMap(v any) (map[string]string, error) {
	var parts []map[string]any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		parts = []map[string]any{v}
	case []any:
		for _, p := range v {
			m, ok := p.(map[string]any)
			if !ok && p != nil {
				return nil, fmt.Errorf("%w: a KMS context is not a mapping", errInvalidMetadata)
			}
			parts = append(parts, m)
		}
	default:
		return nil, fmt.Errorf("%w: a KMS context is not a mapping", errInvalidMetadata)
	}
	out := map[string]string{}
	for _, p := range parts {
		for k, val := range p {
			s, err := weakString(val)
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
	}
	return out, nil
}
