package cloud

import (
	"errors"
	"os"
	"strings"
)

// GCPScope is the scope of the Google access tokens asked for (registries, KMS, storage).
const GCPScope = "https://www.googleapis.com/auth/cloud-platform"

// OneLine keeps an error on one bounded line (an SDK's error for a condition message).
func OneLine(err error) error {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if len(msg) > 600 {
		msg = msg[:600] + "..."
	}
	return errors.New(msg)
}

// GCPEndpoint names where Application Default Credentials come from.
func GCPEndpoint() string {
	if f := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS"); f != "" {
		return "the credentials file named by GOOGLE_APPLICATION_CREDENTIALS"
	}
	h := os.Getenv("GCE_METADATA_HOST")
	if h == "" {
		h = "metadata.google.internal"
	}
	return "the metadata server (" + h + ")"
}
