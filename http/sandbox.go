package http

import (
	"html/template"
	"net/http"
)

// Sandbox serves the tools that exist only in sandbox mode: a landing page
// for the demo's redirect URI that shows the authorization code and how to
// exchange it, and fault injection for the in-process simulated banks.
type Sandbox struct {
	// Faults maps a simulated bank's code to its bank-protocol handler, whose
	// /sim/v1/faults endpoint is exposed as /sandbox/banks/{code}/faults.
	Faults map[string]http.Handler
}

// Register implements Mounter.
func (sb *Sandbox) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /sandbox/callback", sb.handleCallback)
	mux.HandleFunc("GET /sandbox/banks/{code}/faults", sb.handleFaults)
	mux.HandleFunc("PUT /sandbox/banks/{code}/faults", sb.handleFaults)
}

// handleFaults handles "GET|PUT /sandbox/banks/{code}/faults": read or set a
// simulated bank's injected faults (latency, error rate, timeouts, lost
// responses, maintenance, down), in the JSON of docs/bank-protocol.md.
func (sb *Sandbox) handleFaults(w http.ResponseWriter, r *http.Request) {
	h, ok := sb.Faults[r.PathValue("code")]
	if !ok {
		http.Error(w, "no simulated bank with that code", http.StatusNotFound)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/sim/v1/faults"
	r2.URL.RawPath = ""
	h.ServeHTTP(w, r2)
}

var callbackPage = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>obx sandbox: authorization result</title>
</head>
<body>
<main>
<h1>Authorization result <small>(sandbox redirect URI)</small></h1>
{{if .Error}}
<p role="alert">The customer did not authorize the app: <strong>{{.Error}}</strong> {{.Description}}</p>
{{else}}
<dl>
<dt>code</dt><dd><code id="code">{{.Code}}</code></dd>
<dt>scope</dt><dd>{{.Scope}}</dd>
<dt>state</dt><dd>{{.State}}</dd>
<dt>client_info</dt><dd>{{.ClientInfo}}</dd>
</dl>
<p>Exchange the code within five minutes; it works once:</p>
<pre>curl -s {{.Base}}/oauth/2.0/token \
  -d grant_type=authorization_code -d code={{.Code}} \
  -d client_id=$CLIENT_ID -d client_secret=$CLIENT_SECRET \
  --data-urlencode redirect_uri={{.Base}}/sandbox/callback</pre>
{{end}}
</main>
</body>
</html>
`))

// handleCallback handles "GET /sandbox/callback", the demo apps' redirect URI.
func (sb *Sandbox) handleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	callbackPage.Execute(w, map[string]string{
		"Code": q.Get("code"), "Scope": q.Get("scope"), "State": q.Get("state"),
		"ClientInfo": q.Get("client_info"), "Error": q.Get("error"),
		"Description": q.Get("error_description"), "Base": scheme + "://" + r.Host,
	})
}
