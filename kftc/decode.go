package kftc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/obxhub/obx"
)

// MaxBodyBytes bounds request bodies. The largest KFTC request, a deposit with
// 25 items, is a few kilobytes.
const MaxBodyBytes = 64 << 10

// Fields is a decoded request. Every scalar is held as a string, as the spec
// types them, whatever JSON type the client sent; lists (req_list) hold []Fields.
type Fields map[string]any

// Get returns a scalar field, or "" when absent, null, or not a scalar.
func (f Fields) Get(name string) string {
	s, _ := f[name].(string)
	return s
}

// Has reports whether a scalar field is present (and not null).
func (f Fields) Has(name string) bool {
	_, ok := f[name].(string)
	return ok
}

// List returns a list field, or nil.
func (f Fields) List(name string) []Fields {
	l, _ := f[name].([]Fields)
	return l
}

// Decode reads a request the way real clients send it (§1.3): GET parameters
// from the query string; POST bodies as JSON when they start with "{",
// whatever the Content-Type (some clients send none, some send JSON under a
// form type), and as a form otherwise. JSON numbers and booleans become strings,
// null means absent, unknown fields are kept but ignored by callers.
// Errors are EINVALID with a client-safe message.
func Decode(w http.ResponseWriter, r *http.Request) (Fields, error) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return fromValues(r.URL.Query()), nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, obx.Errorf(obx.EINVALID, "request body exceeds %d bytes", MaxBodyBytes)
		}
		return nil, obx.Errorf(obx.EINVALID, "request body could not be read")
	}
	return DecodeBody(body)
}

// DecodeBody decodes a POST body; see Decode.
func DecodeBody(body []byte) (Fields, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return Fields{}, nil
	}
	if trimmed[0] != '{' {
		v, err := url.ParseQuery(string(trimmed))
		if err != nil {
			return nil, obx.Errorf(obx.EINVALID, "request body is neither a JSON object nor a form")
		}
		return fromValues(v), nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, obx.Errorf(obx.EINVALID, "malformed JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, obx.Errorf(obx.EINVALID, "malformed JSON: data after the object")
	}
	return fromJSON(m, 0)
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	return "not a JSON object"
}

func fromValues(v url.Values) Fields {
	f := make(Fields, len(v))
	for k, vs := range v {
		if len(vs) > 0 {
			f[k] = vs[0]
		}
	}
	return f
}

// fromJSON converts a decoded object. Nesting beyond req_list's one level is
// not part of any KFTC request, so it is refused rather than followed.
func fromJSON(m map[string]any, depth int) (Fields, error) {
	f := make(Fields, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			// null means absent (Kotlin/Jackson clients send explicit nulls).
		case string:
			f[k] = v
		case json.Number:
			f[k] = v.String()
		case bool:
			if v {
				f[k] = "true"
			} else {
				f[k] = "false"
			}
		case []any:
			if depth > 0 {
				return nil, obx.Errorf(obx.EINVALID, "%s: nested lists are not allowed", k)
			}
			list := make([]Fields, 0, len(v))
			for _, item := range v {
				obj, ok := item.(map[string]any)
				if !ok {
					return nil, obx.Errorf(obx.EINVALID, "%s: list items must be objects", k)
				}
				sub, err := fromJSON(obj, depth+1)
				if err != nil {
					return nil, err
				}
				list = append(list, sub)
			}
			f[k] = list
		case map[string]any:
			// No KFTC request has nested objects; ignore like any unknown field.
		}
	}
	return f, nil
}

// Validator checks fields one by one and keeps the first problem, so handlers
// read as a list of fields. Its error is EINVALID, rendered as A0004 with the
// detail naming the field.
type Validator struct {
	f   Fields
	err error
}

// NewValidator returns a validator over f.
func NewValidator(f Fields) *Validator { return &Validator{f: f} }

// Err returns the first problem found, or nil.
func (v *Validator) Err() error { return v.err }

// Fail records a problem found by the caller, unless one was found before.
func (v *Validator) Fail(format string, args ...any) { v.fail(format, args...) }

func (v *Validator) fail(format string, args ...any) {
	if v.err == nil {
		v.err = obx.Errorf(obx.EINVALID, format, args...)
	}
}

// Text returns a field of at most max characters (runes); required fields
// must be non-empty.
func (v *Validator) Text(name string, max int, required bool) string {
	s := strings.TrimSpace(v.f.Get(name))
	if s == "" {
		if required {
			v.fail("%s is required", name)
		}
		return ""
	}
	if n := len([]rune(s)); n > max {
		v.fail("%s is longer than %d characters", name, max)
	}
	return s
}

// Digits returns a field of exactly n decimal digits.
func (v *Validator) Digits(name string, n int, required bool) string {
	s := strings.TrimSpace(v.f.Get(name))
	if s == "" {
		if required {
			v.fail("%s is required", name)
		}
		return ""
	}
	if len(s) != n || !allDigits(s) {
		v.fail("%s must be %d digits", name, n)
	}
	return s
}

// OneOf returns a field that must be one of options; an absent field yields def
// (and is an error when def is "").
func (v *Validator) OneOf(name, def string, options ...string) string {
	s := strings.TrimSpace(v.f.Get(name))
	if s == "" {
		if def == "" {
			v.fail("%s is required", name)
		}
		return def
	}
	for _, o := range options {
		if s == o {
			return s
		}
	}
	v.fail("%s must be one of %s", name, strings.Join(options, ", "))
	return def
}

// BankTranID returns bank_tran_id, which must be the caller's client_use_code,
// "U", and nine alphanumerics (§2).
func (v *Validator) BankTranID(clientUseCode string) string {
	s := v.Text("bank_tran_id", 20, true)
	if v.err != nil {
		return s
	}
	if len(s) != 20 || s[:10] != clientUseCode || s[10] != 'U' || !alnum(s[11:]) {
		v.fail("bank_tran_id must be the client use code %s, U, and 9 alphanumerics", clientUseCode)
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}
