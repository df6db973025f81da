package provider

import "testing"

func TestJSONMessage(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"message":"Bad credentials","documentation_url":"x"}`, "Bad credentials"},
		{`{"message":"Validation Failed","errors":[{"message":"key is already in use"}]}`, "Validation Failed: key is already in use"},
		{`{"message":{"path":["has already been taken"]}}`, `{"path":["has already been taken"]}`},
		{`{"error":"invalid_token","error_description":"Token was revoked."}`, "invalid_token Token was revoked."},
		{`{"errors":["user redirect does not exist [name: nope]"],"message":"GetOrgByName"}`, "GetOrgByName: user redirect does not exist [name: nope]"},
		{`{"errors":[{"context":null,"message":"Repository FLEET/x does not exist."}]}`, "Repository FLEET/x does not exist."},
		{`not json`, ""},
	}
	for _, tt := range tests {
		if got := jsonMessage([]byte(tt.body)); got != tt.want {
			t.Errorf("jsonMessage(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}
