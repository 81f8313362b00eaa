package kftc

import (
	"errors"

	"github.com/obxhub/obx"
)

// Response codes (§6.1). Only the ones obx emits are named.
const (
	CodeOK                  = "A0000"
	CodeProcessing          = "A0001"
	CodeBankError           = "A0002"
	CodeInternal            = "A0003"
	CodeFormat              = "A0004"
	CodeDepositDailyLimit   = "A0101"
	CodeTSPDailyLimit       = "A0103"
	CodePerTransferLimit    = "A0105"
	CodeUserDailyLimit      = "A0112"
	CodePassPhrase          = "A0307"
	CodeNoTransfer          = "A0310"
	CodeUnregisteredCntr    = "A0322"
	CodeBankNotAgreed       = "A0327"
	CodeHolderInfoFormat    = "A0321"
	CodeDataError           = "A0005"
	CodeTimeout             = "A0007"
	CodeDuplicate           = "A0008"
	CodeItemsFailed         = "A0009"
	CodeServiceUnavailable  = "A0013"
	CodeUserClosed          = "A0014"
	CodeBankTimeout         = "A0017"
	CodeNoTransactions      = "A0018"
	CodeNotInquiryTime      = "A0020"
	CodeNoAccess            = "A0301"
	CodeFintechNumMismatch  = "A0304"
	CodeNoInquiryConsent    = "A0305"
	CodeNoWithdrawConsent   = "A0306"
	CodeUserMismatch        = "A0313"
	CodeInquiryConsentExp   = "A0316"
	CodeWithdrawConsentExp  = "A0319"
	CodeNotRegisteredAcct   = "A0323"
	CodeDuplicateBankTranID = "A0326"
	CodeNoSuchUser          = "A0337"

	CodeAuthParam     = "O0001"
	CodeTokenRejected = "O0002"
	CodeTokenExpired  = "O0003"
	CodeNoSuchAPI     = "O0005"
	CodeMethod        = "O0010"
	CodeScope         = "O0011"
)

// Messages is the text of each code, as KFTC words it. A detail may follow in
// brackets: "요청전문 포맷 에러 [bank_tran_id]".
var Messages = map[string]string{
	CodeOK:                  "",
	CodeProcessing:          "처리 중",
	CodeBankError:           "참가기관 에러",
	CodeInternal:            "내부 처리 에러",
	CodeFormat:              "요청전문 포맷 에러",
	CodeDepositDailyLimit:   "이용기관 입금이체 한도 초과 (일 한도)",
	CodeTSPDailyLimit:       "이용기관 출금이체 한도 초과 (일 한도)",
	CodePerTransferLimit:    "이용기관 출금이체 한도 초과 (건당 한도)",
	CodeUserDailyLimit:      "사용자 출금이체 한도 초과 (일 한도)",
	CodePassPhrase:          "이체암호문구 불일치",
	CodeNoTransfer:          "이체 내역 없음",
	CodeUnregisteredCntr:    "미등록된 이용기관 약정 계좌/계정",
	CodeBankNotAgreed:       "출금한도 미협의 은행 (이용기관 문의)",
	CodeHolderInfoFormat:    "예금주 실명번호 구분코드와 실명번호의 형식(자리수) 불일치",
	CodeDataError:           "등록 데이터 에러",
	CodeTimeout:             "처리시간 초과 에러",
	CodeDuplicate:           "중복거래 에러",
	CodeItemsFailed:         "API 세부업무 처리실패",
	CodeServiceUnavailable:  "이용기관 서비스 사용 불가",
	CodeUserClosed:          "탈퇴 회원",
	CodeBankTimeout:         "참가은행 응답전문 TIMEOUT",
	CodeNoTransactions:      "거래내역 없음",
	CodeNotInquiryTime:      "조회 가능시간 아님",
	CodeNoAccess:            "접근 권한 없음",
	CodeFintechNumMismatch:  "핀테크이용번호 정보 불일치",
	CodeNoInquiryConsent:    "제3자정보제공동의 미완료",
	CodeNoWithdrawConsent:   "출금동의 미완료",
	CodeUserMismatch:        "사용자 불일치",
	CodeInquiryConsentExp:   "금융(거래)정보 제3자제공동의 만료",
	CodeWithdrawConsentExp:  "출금동의 만료",
	CodeNotRegisteredAcct:   "이용기관에 등록된 사용자 계좌 아님",
	CodeDuplicateBankTranID: "은행거래고유번호(거래고유번호(참가기관)) 중복",
	CodeNoSuchUser:          "해당 사용자 없음",
	CodeAuthParam:           "인증 파라미터 오류",
	CodeTokenRejected:       "Access Token 거부",
	CodeTokenExpired:        "Access Token 만료",
	CodeNoSuchAPI:           "허용되지 않은 API 접근",
	CodeMethod:              "허용되지 않은 http method",
	CodeScope:               "허용되지 않은 Scope 입니다.",
}

// Message returns code's text with detail in brackets when detail is set.
func Message(code, detail string) string {
	m := Messages[code]
	if detail != "" {
		m += " [" + detail + "]"
	}
	return m
}

// sentinelCodes maps the domain's fine-grained conditions onto rsp_codes. It is
// checked before codeByClass; together they are the one mapping table.
var sentinelCodes = []struct {
	err  error
	code string
}{
	{obx.ErrScope, CodeScope},
	{obx.ErrUnknownFintechNum, CodeFintechNumMismatch},
	{obx.ErrWrongUser, CodeUserMismatch},
	{obx.ErrAccountCancelled, CodeNotRegisteredAcct},
	{obx.ErrConsentMissing, CodeNoInquiryConsent},
	{obx.ErrConsentExpired, CodeInquiryConsentExp},
	{obx.ErrWithdrawConsentMissing, CodeNoWithdrawConsent},
	{obx.ErrWithdrawConsentExpired, CodeWithdrawConsentExp},
	{obx.ErrUserClosed, CodeUserClosed},
	{obx.ErrTSPSuspended, CodeServiceUnavailable},
	{obx.ErrUnknownUser, CodeNoSuchUser},
	{obx.ErrBankMaintenance, CodeNotInquiryTime},
	{obx.ErrBankDown, CodeBankError},
	{obx.ErrUnknownBank, CodeFormat},
	{obx.ErrDuplicateTranID, CodeDuplicateBankTranID},
	{obx.ErrUnregisteredContract, CodeUnregisteredCntr},
	{obx.ErrWithdrawBankNotAgreed, CodeBankNotAgreed},
	{obx.ErrPassPhrase, CodePassPhrase},
	{obx.ErrTSPDailyLimit, CodeTSPDailyLimit},
	{obx.ErrPerTransferLimit, CodePerTransferLimit},
	{obx.ErrUserDailyLimit, CodeUserDailyLimit},
	{obx.ErrDepositDailyLimit, CodeDepositDailyLimit},
	{obx.ErrSubBusiness, CodeNoAccess},
	{obx.ErrNoContract, CodeServiceUnavailable},
	{obx.ErrTransferNotFound, CodeNoTransfer},
	{obx.ErrHolderInfoFormat, CodeHolderInfoFormat},
	{obx.ErrAlreadyClaimed, CodeDuplicate},
}

// codeByClass maps the domain error codes.
var codeByClass = map[string]string{
	obx.EINVALID:      CodeFormat,
	obx.EUNAUTHORIZED: CodeTokenRejected,
	obx.EFORBIDDEN:    CodeNoAccess,
	obx.ENOTFOUND:     CodeDataError,
	obx.ECONFLICT:     CodeDuplicate,
	obx.EUNAVAILABLE:  CodeBankError,
	obx.ETIMEOUT:      CodeBankTimeout,
	obx.EINTERNAL:     CodeInternal,
}

// Code returns the rsp_code for err and a client-safe detail for the message.
// A *obx.BankError is CodeBankError; its bank fields come from BankFieldsFor.
func Code(err error) (code, detail string) {
	var be *obx.BankError
	if errors.As(err, &be) {
		return CodeBankError, be.Message
	}
	for _, s := range sentinelCodes {
		if errors.Is(err, s.err) {
			return s.code, detailOf(err)
		}
	}
	c, ok := codeByClass[obx.ErrorCode(err)]
	if !ok {
		c = CodeInternal
	}
	if c == CodeInternal {
		return c, "" // internal causes never reach clients
	}
	return c, detailOf(err)
}

func detailOf(err error) string {
	if obx.ErrorCode(err) == obx.EINTERNAL {
		return ""
	}
	return obx.ErrorMessage(err)
}

// IsGateway reports whether code is answered with a bare GatewayError body.
func IsGateway(code string) bool { return code != "" && code[0] == 'O' }
