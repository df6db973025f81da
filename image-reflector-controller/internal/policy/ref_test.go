package policy

import (
	"context"
	"errors"
	"testing"

	imagev1 "gotk.dev/image-reflector-controller/api/v1"
)

func TestResolveDigestReflection(t *testing.T) {
	const image = "ghcr.io/stefanprodan/podinfo"
	lookups := 0
	lookup := func(_ context.Context, tag string) (string, error) {
		lookups++
		return "sha256:" + tag + "-now", nil
	}
	prevSame := &imagev1.ImageRef{Name: image, Tag: "5.1.4", Digest: "sha256:old"}
	tests := []struct {
		name        string
		reflect     imagev1.ReflectionPolicy
		prev        *imagev1.ImageRef
		tag         string
		wantDigest  string
		wantLookups int
		wantChanged bool
		wantMessage string
	}{
		{name: "never", reflect: imagev1.ReflectNever, tag: "5.1.4", wantChanged: true,
			wantMessage: "Latest image tag for '" + image + "' resolved to 5.1.4"},
		{name: "default is never", reflect: "", prev: &imagev1.ImageRef{Name: image, Tag: "5.1.4"}, tag: "5.1.4",
			wantMessage: "Latest image tag for '" + image + "' resolved to 5.1.4"},
		{name: "if not present, first time", reflect: imagev1.ReflectIfNotPresent, tag: "5.1.4",
			wantDigest: "sha256:5.1.4-now", wantLookups: 1, wantChanged: true},
		{name: "if not present keeps the digest of an unchanged tag", reflect: imagev1.ReflectIfNotPresent,
			prev: prevSame, tag: "5.1.4", wantDigest: "sha256:old"},
		{name: "if not present looks up a new tag", reflect: imagev1.ReflectIfNotPresent,
			prev: prevSame, tag: "5.1.5", wantDigest: "sha256:5.1.5-now", wantLookups: 1, wantChanged: true,
			wantMessage: "Latest image tag for '" + image + "' updated from 5.1.4 with digest sha256:old to 5.1.5 with digest sha256:5.1.5-now"},
		{name: "always refreshes a moved tag", reflect: imagev1.ReflectAlways,
			prev: prevSame, tag: "5.1.4", wantDigest: "sha256:5.1.4-now", wantLookups: 1, wantChanged: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookups = 0
			res, err := Resolve(context.Background(), tt.reflect, image, tt.tag, tt.prev, lookup)
			if err != nil {
				t.Fatal(err)
			}
			if res.Latest.Digest != tt.wantDigest || res.Latest.Tag != tt.tag || res.Latest.Name != image {
				t.Errorf("latest = %+v", res.Latest)
			}
			if lookups != tt.wantLookups {
				t.Errorf("lookups = %d, want %d", lookups, tt.wantLookups)
			}
			if res.Changed != tt.wantChanged {
				t.Errorf("changed = %v", res.Changed)
			}
			if (tt.prev == nil) != (res.Previous == nil) || (tt.prev != nil && *res.Previous != *tt.prev) {
				t.Errorf("previous = %+v, want %+v", res.Previous, tt.prev)
			}
			if tt.wantMessage != "" && res.Message() != tt.wantMessage {
				t.Errorf("message = %q\nwant      %q", res.Message(), tt.wantMessage)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	boom := errors.New("registry down")
	_, err := Resolve(context.Background(), imagev1.ReflectAlways, "img", "1", nil, func(context.Context, string) (string, error) { return "", boom })
	if !errors.Is(err, boom) {
		t.Fatalf("lookup error = %v", err)
	}
	_, err = Resolve(context.Background(), "Sometimes", "img", "1", nil, nil)
	var se *SpecError
	if !errors.As(err, &se) || se.Field != ".spec.digestReflectionPolicy" {
		t.Fatalf("bad policy error = %v", err)
	}
}
