package http

import "net/http"

// routes registers the hub's own routes. The OAuth server and sandbox tools
// add theirs through Server.Mounts.
func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.Handle("GET /metrics", s.Metrics.Handler())

	// KFTC v2.0 (kftc-api.md §5). Each path also answers other methods with
	// O0010, and unknown /v2.0/ paths with O0005, both as HTTP 200 like KFTC.
	s.kftcRoute(mux, "GET", "/v2.0/user/me", s.handleUserMe)
	s.kftcRoute(mux, "POST", "/v2.0/user/unlink", s.handleUserUnlink)
	s.kftcRoute(mux, "POST", "/v2.0/user/close", s.handleUserClose)
	s.kftcRoute(mux, "GET", "/v2.0/account/list", s.handleAccountList)
	s.kftcRoute(mux, "POST", "/v2.0/account/update_info", s.handleAccountUpdateInfo)
	s.kftcRoute(mux, "POST", "/v2.0/account/cancel", s.handleAccountCancel)
	s.kftcRoute(mux, "GET", "/v2.0/account/balance/fin_num", s.handleBalance)
	s.kftcRoute(mux, "GET", "/v2.0/account/transaction_list/fin_num", s.handleTransactionList)
	s.kftcRoute(mux, "GET", "/v2.0/bank/status", s.handleBankStatus)
	s.kftcRoute(mux, "POST", "/v2.0/transfer/withdraw/fin_num", s.handleWithdraw)
	s.kftcRoute(mux, "POST", "/v2.0/transfer/deposit/fin_num", s.handleDeposit)
	s.kftcRoute(mux, "POST", "/v2.0/transfer/result", s.handleTransferResult)
	s.kftcRoute(mux, "GET", "/v2.0/transfer/user_remain_amt", s.handleUserRemainAmt)
	mux.HandleFunc("/v2.0/", s.handleNoSuchAPI)
}
