package oauth

import (
	"context"
	"strings"
	"testing"
)

func TestSecretHasher(t *testing.T) {
	hash, err := HashSecret("s3cret-value")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(hash), "s3cret") || !strings.HasPrefix(string(hash), secretHashPrefix) {
		t.Errorf("HashSecret = %q", hash)
	}
	h := secretHasher{}
	if err := h.Compare(context.Background(), hash, []byte("s3cret-value")); err != nil {
		t.Errorf("Compare(right secret) = %v", err)
	}
	for _, wrong := range []string{"s3cret-valuE", "", "s3cret-value "} {
		if err := h.Compare(context.Background(), hash, []byte(wrong)); err == nil {
			t.Errorf("Compare(%q) accepted", wrong)
		}
	}
	if _, err := HashSecret(""); err == nil {
		t.Error("HashSecret accepted an empty secret")
	}
}
