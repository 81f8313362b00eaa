package obx_test

import (
	"slices"
	"testing"
	"time"

	"github.com/obxhub/obx"
)

// TestTransitions checks every pair of states: exactly the workflow's steps
// are allowed, so no step can be skipped, repeated or undone.
func TestTransitions(t *testing.T) {
	allowed := map[[2]string]bool{
		{obx.AdmDraft, obx.AdmSubmitted}: true, {obx.AdmSubmitted, obx.AdmReview}: true,
		{obx.AdmReview, obx.AdmApproved}: true, {obx.AdmReview, obx.AdmRejected}: true,
		{obx.AdmRejected, obx.AdmSubmitted}: true, {obx.AdmApproved, obx.AdmFunctionalTest}: true,
		{obx.AdmFunctionalTest, obx.AdmSecurityCheck}: true, {obx.AdmFunctionalTest, obx.AdmApproved}: true,
		{obx.AdmSecurityCheck, obx.AdmContract}: true, {obx.AdmContract, obx.AdmLive}: true,
		{obx.AdmLive, obx.AdmSuspended}: true, {obx.AdmSuspended, obx.AdmLive}: true,
		{obx.AdmLive, obx.AdmTerminated}: true, {obx.AdmSuspended, obx.AdmTerminated}: true,
	}
	for _, from := range obx.AdmissionStates {
		for _, to := range obx.AdmissionStates {
			err := obx.CheckTransition(from, to)
			if allowed[[2]string{from, to}] {
				if err != nil {
					t.Errorf("%s → %s refused: %v", from, to, err)
				}
			} else if obx.ErrorCode(err) != obx.ECONFLICT {
				t.Errorf("%s → %s = %v, want conflict", from, to, err)
			}
		}
	}
	if obx.CheckTransition(obx.AdmTerminated, obx.AdmLive) == nil {
		t.Error("a terminated TSP came back")
	}
}

func TestCheckEligibility(t *testing.T) {
	ok := &obx.Application{Category: obx.EligibleFintech, Services: []string{"payment"}}
	if f := obx.CheckEligibility(ok); len(f) != 0 {
		t.Errorf("eligible application flagged: %+v", f)
	}
	bad := &obx.Application{Activities: []string{"gambling", "money_lending"},
		Services: []string{"payment", "withdrawal_agency", "bill_collection"}, SubBusiness: true}
	var got []string
	for _, f := range obx.CheckEligibility(bad) {
		got = append(got, f.Rule.Code+" "+f.Rule.Ref)
	}
	want := []string{"not_eligible §4.2", "gambling §4.3", "money_lending §4.3", "withdrawal_agency §4.3",
		"bill_collection §4.3", "sub_business §6"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
}

func TestApplicationValidate(t *testing.T) {
	a := &obx.Application{CompanyName: "Fin", BusinessNum: "1234567890"}
	if err := a.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if err := a.ValidateForSubmit(); obx.ErrorCode(err) != obx.EINVALID {
		t.Errorf("incomplete submit: %v", err)
	}
	for _, bad := range []obx.Application{
		{BusinessNum: "1234567890"},
		{CompanyName: "x", BusinessNum: "12345"},
		{CompanyName: "x", BusinessNum: "1234567890", CreditRating: "ZZZ"},
		{CompanyName: "x", BusinessNum: "1234567890", Services: []string{"nope"}},
		{CompanyName: "x", BusinessNum: "1234567890", APIs: []string{"/v2.0/nope"}},
		{CompanyName: "x", BusinessNum: "1234567890", Members: -1},
	} {
		if err := bad.Validate(); obx.ErrorCode(err) != obx.EINVALID {
			t.Errorf("Validate(%+v) = %v, want invalid", bad, err)
		}
	}
}

func TestWithdrawalsOpen(t *testing.T) {
	c := &obx.AdmissionContract{Guarantee: obx.GuaranteeCenter}
	if !c.WithdrawalsOpen("097") {
		t.Error("center guarantee: withdrawals closed")
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c = &obx.AdmissionContract{Guarantee: obx.GuaranteeIndividual, RequestedAt: now,
		BankGuarantees: []obx.BankGuarantee{{BankCode: "097", Limit: 1, AgreedAt: now}, {BankCode: "088", Limit: 1}}}
	if !c.WithdrawalsOpen("097") || c.WithdrawalsOpen("088") || c.WithdrawalsOpen("004") {
		t.Error("individual guarantees: withdrawals must open bank by bank")
	}
	if got := c.IndividualDeadline(); !got.Equal(now.AddDate(0, 0, 30)) {
		t.Errorf("deadline %v", got)
	}
}
