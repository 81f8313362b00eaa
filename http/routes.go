package http

import (
	"net/http"

	"github.com/obxhub/obx"
)

// routes registers the hub's own routes. The OAuth server and sandbox tools
// add theirs through Server.Mounts.
func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.Handle("GET /metrics", s.Metrics.Handler())

	// KFTC v2.0 (kftc-api.md §5). Each path also answers other methods with
	// O0010, and unknown /v2.0/ paths with O0005, both as HTTP 200 like KFTC.
	// The scopes after each handler are those a token needs (§3.4).
	login, inquiry, transfer, oob, sa := obx.ScopeLogin, obx.ScopeInquiry, obx.ScopeTransfer, obx.ScopeOOB, obx.ScopeSA
	s.kftcRoute(mux, "GET", "/v2.0/user/me", s.handleUserMe, login, sa)
	s.kftcRoute(mux, "POST", "/v2.0/user/unlink", s.handleUserUnlink, login)
	s.kftcRoute(mux, "POST", "/v2.0/user/close", s.handleUserClose, login, sa)
	s.kftcRoute(mux, "GET", "/v2.0/account/list", s.handleAccountList, login, sa)
	s.kftcRoute(mux, "POST", "/v2.0/account/update_info", s.handleAccountUpdateInfo, login, sa)
	s.kftcRoute(mux, "POST", "/v2.0/account/cancel", s.handleAccountCancel, login, sa)
	s.kftcRoute(mux, "GET", "/v2.0/account/balance/fin_num", s.handleBalance, inquiry, sa)
	s.kftcRoute(mux, "GET", "/v2.0/account/transaction_list/fin_num", s.handleTransactionList, inquiry, sa)
	s.kftcRoute(mux, "GET", "/v2.0/bank/status", s.handleBankStatus, oob, sa)
	s.kftcRouteHinted(mux, "POST", "/v2.0/transfer/withdraw/fin_num", s.handleWithdraw, withdrawalPayer, transfer, sa)
	s.kftcRoute(mux, "POST", "/v2.0/transfer/withdraw/acnt_num", s.handleWithdrawAcnt, sa)
	s.kftcRoute(mux, "POST", "/v2.0/transfer/deposit/fin_num", s.handleDeposit, oob, sa)
	s.kftcRoute(mux, "POST", "/v2.0/transfer/deposit/acnt_num", s.handleDepositAcnt, oob, sa)
	s.kftcRoute(mux, "POST", "/v2.0/transfer/result", s.handleTransferResult, oob, sa)
	s.kftcRoute(mux, "POST", "/v2.0/return/claim", s.handleReturnClaim, oob, sa)
	s.kftcRoute(mux, "POST", "/v2.0/return/result", s.handleReturnResult, oob, sa)
	s.kftcRoute(mux, "POST", "/v2.0/inquiry/real_name", s.handleRealName, oob, sa)
	s.kftcRoute(mux, "POST", "/v2.0/inquiry/receive", s.handleReceive, oob, sa)
	s.kftcRoute(mux, "POST", "/v2.0/inquiry/remit_list", s.handleRemitList, oob, sa)
	s.kftcRoute(mux, "GET", "/v2.0/transfer/user_remain_amt", s.handleUserRemainAmt, login, inquiry, transfer, sa)
	mux.HandleFunc("/v2.0/", s.handleNoSuchAPI)
	if s.Products != nil { // the public product-data API (products.go)
		s.productRoutes(mux)
	}
}
