package oauth

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/ory/fosite"
)

// TestDecodedRequests: a cached decoding equals a fresh one, callers cannot
// change it through what they were given, and an entry is not used for other
// bytes under the same signature.
func TestDecodedRequests(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	want := storedRequest{
		ID: "req-1", RequestedAt: at, ClientID: "client-1",
		RequestedScopes: []string{"login", "transfer"}, GrantedScopes: []string{"login", "transfer"},
		Form:    url.Values{"scope": {"login transfer"}},
		Session: &session{UserSeqNo: "1100000001", ExpiresAt: map[fosite.TokenType]time.Time{fosite.AccessToken: at.Add(time.Hour)}},
	}
	data, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var d decodedRequests
	for i := range 3 {
		got, err := d.decode("access_token", "sig-1", data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decode %d = %+v, want %+v", i, got, want)
		}
		// What a caller does with its copy must not reach the next one.
		got.GrantedScopes[0] = "changed"
		got.RequestedScopes = append(got.RequestedScopes, "extra")
		got.Form["scope"][0] = "changed"
		got.Form.Set("added", "x")
		got.Session.SetExpiresAt(fosite.RefreshToken, at)
		got.Session.ExpiresAt[fosite.AccessToken] = at
		got.Session.UserSeqNo = "changed"
	}

	other := want.clone()
	other.GrantedScopes = []string{"login"}
	otherData, err := json.Marshal(other)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.decode("access_token", "sig-1", otherData)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.GrantedScopes, []string{"login"}) {
		t.Errorf("other bytes under the same signature decoded to scopes %v, want [login]", got.GrantedScopes)
	}
	if _, err := d.decode("access_token", "sig-2", []byte("{")); err == nil {
		t.Error("malformed JSON decoded without error")
	}
}
