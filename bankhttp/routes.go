package bankhttp

// routes registers the whole protocol on one screen. docs/bank-protocol.md
// describes each endpoint.
func (s *Server) routes() {
	s.mux.Handle("POST /bank/v1/signin", s.apiHandler(s.handleSignIn))
	// Lookups by CI or account number are POSTs with the identifier in the
	// body, so that no personal identifier appears in a URL (and so in an
	// access log). They change nothing and are safe to retry.
	s.mux.Handle("POST /bank/v1/customers/lookup", s.apiHandler(s.handleCustomer))
	s.mux.Handle("POST /bank/v1/accounts/get", s.apiHandler(s.handleAccount))
	s.mux.Handle("POST /bank/v1/accounts/balance", s.apiHandler(s.handleBalance))
	s.mux.Handle("POST /bank/v1/accounts/transactions", s.apiHandler(s.handleTransactions))
	s.mux.Handle("GET /bank/v1/status", s.apiHandler(s.handleStatus))
	s.mux.Handle("POST /bank/v1/debits", s.apiHandler(s.handleDebit))
	s.mux.Handle("POST /bank/v1/credits", s.apiHandler(s.handleCredit))
	// Operation ids are the hub's own and not personal: they may be in the path.
	s.mux.Handle("GET /bank/v1/operations/{id}", s.apiHandler(s.handleOperation))
	// Product data, served when the bank publishes it (obx.CatalogSource).
	s.mux.Handle("GET /bank/v1/products/catalog", s.apiHandler(s.handleCatalog))
	s.mux.Handle("GET /bank/v1/products/rates", s.apiHandler(s.handleRates))
	if s.faults != nil {
		s.mux.Handle("GET /sim/v1/faults", s.apiHandler(s.handleFaultsGet))
		s.mux.Handle("PUT /sim/v1/faults", s.apiHandler(s.handleFaultsPut))
	}
	// Everything else, wrong methods included, is a JSON 404 that the client
	// tells apart from a missing customer or operation.
	s.mux.Handle("/", s.apiHandler(s.handleNoRoute))
}
