package workload

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/obxhub/obx/banksim"
)

// sound returns a small run that passes every check: a completed withdrawal,
// a deposit reversed after its credit was refused, a withdrawal whose debit
// was refused, and a withdrawal refused for the daily limit.
func sound() *Final {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	a1 := &Account{BankCode: "097", Number: "A1", UserSeqNo: "1000000001", HolderName: "김민준"}
	a2 := &Account{BankCode: "088", Number: "A2", UserSeqNo: "1000000002", HolderName: "이서연", Closed: true}
	contract := Contract{BankCode: "088", Number: "C1", HolderName: "워크로드페이"}
	at := func(s int, o Outcome, code, bank string) Attempt {
		return Attempt{Start: t0.Add(time.Duration(s) * time.Second), End: t0.Add(time.Duration(s)*time.Second + 100*time.Millisecond),
			Outcome: o, RspCode: code, BankRspCode: bank}
	}
	ops := []*Op{
		{Kind: "withdraw", BankTranID: "T991000777U000000001", TranDtime: "20261123210000", Amount: 1000, Account: a1,
			Attempts: []Attempt{at(0, Completed, "A0000", "000")}},
		{Kind: "deposit", BankTranID: "T991000777U000000002", TranDtime: "20261123210000", Amount: 500, Account: a2,
			Attempts: []Attempt{at(1, Unknown, "", ""), at(2, InProgress, "A0009", ""), at(3, Failed, "A0009", "415")}},
		{Kind: "withdraw", BankTranID: "T991000777U000000003", TranDtime: "20261123210000", Amount: 2000, Account: a1,
			Attempts: []Attempt{at(4, Failed, "A0002", "453")}},
		{Kind: "withdraw", BankTranID: "T991000777U000000004", TranDtime: "20261123210000", Amount: 3000, Account: a1,
			Attempts: []Attempt{at(5, Refused, "A0103", "")}},
	}
	tr := func(id string, op *Op, debit, credit AccountKey, state string, reversed bool, rsp string) Transfer {
		return Transfer{ID: id, Kind: op.Kind, BankTranID: op.BankTranID, TranDay: op.TranDay(), LimitDay: "20261123",
			Amount: op.Amount, UserSeqNo: map[bool]string{true: op.Account.UserSeqNo}[op.Kind == "withdraw"],
			DebitBank: debit.Bank, DebitAccount: debit.Number, CreditBank: credit.Bank, CreditAccount: credit.Number,
			State: state, Reversed: reversed, RspCode: rsp, CreatedAt: t0}
	}
	led := func(bank, id, acct string, credit bool, amount int64, status, rsp string, after int64) LedgerOp {
		return LedgerOp{Bank: bank, OperationRecord: banksim.OperationRecord{ID: id, Credit: credit, AccountNum: acct,
			Amount: amount, Status: status, RspCode: rsp, AfterBalance: after}}
	}
	return &Final{
		Ops: ops, Accounts: []*Account{a1, a2}, Contract: contract,
		Before: map[AccountKey]int64{a1.Key(): 5000, a2.Key(): 0, contract.Key(): 10000},
		After:  map[AccountKey]int64{a1.Key(): 4000, a2.Key(): 0, contract.Key(): 11000},
		Transfers: []Transfer{
			tr("TA", ops[0], a1.Key(), contract.Key(), "completed", false, "000"),
			tr("TB", ops[1], contract.Key(), a2.Key(), "failed", true, "415"),
			tr("TC", ops[2], a1.Key(), contract.Key(), "failed", false, "453"),
		},
		Ledger: []LedgerOp{
			led("097", "TA-D", "A1", false, 1000, "applied", "000", 4000),
			led("088", "TA-C", "C1", true, 1000, "applied", "000", 11000),
			led("088", "TB-D", "C1", false, 500, "applied", "000", 10500),
			led("088", "TB-C", "A2", true, 500, "rejected", "415", 0),
			led("088", "TB-R", "C1", true, 500, "applied", "000", 11000),
			led("097", "TC-D", "A1", false, 2000, "rejected", "453", 0),
		},
		Protocol: map[string]ProtocolOp{
			"TA-D": {"097", "applied", "000"}, "TA-C": {"088", "applied", "000"}, "TA-R": {"097", "absent", ""},
			"TC-D": {"097", "rejected", "453"}, "TC-C": {"088", "absent", ""},
		},
		Usage: []LimitUsage{
			{"20261123", "withdraw", "", 1000}, {"20261123", "withdraw", "1000000001", 1000}, {"20261123", "deposit", "", 0},
		},
		Movements: []Movement{{"TA", "097", "088", 1000}},
		Results: map[string]Attempt{
			ops[0].BankTranID: {Outcome: Completed}, ops[1].BankTranID: {Outcome: Failed},
			ops[2].BankTranID: {Outcome: Failed}, ops[3].BankTranID: {Outcome: NotFound},
		},
		WithdrawLimit: 1000, PerTransferLimit: 2500,
		LimitChanges: []LimitChange{{At: t0.Add(time.Minute), Old: 1000, New: 4000}},
	}
}

func TestCheckSound(t *testing.T) {
	if vs := Check(sound()); len(vs) > 0 {
		t.Errorf("a sound run has violations:\n%v", vs)
	}
}

// TestCheckCatches breaks a sound run the ways a faulty hub or bank would and
// expects the named check to notice.
func TestCheckCatches(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check string
		Break func(f *Final)
	}{
		{"debit applied twice under a fresh id", CheckConservation, func(f *Final) {
			f.Ledger = append(f.Ledger, LedgerOp{Bank: "097", OperationRecord: banksim.OperationRecord{
				ID: "TX-D", AccountNum: "A1", Amount: 1000, Status: "applied", AfterBalance: 3000}})
			f.After[AccountKey{"097", "A1"}] = 3000
		}},
		{"debit applied twice under a fresh id is no leg", CheckExactlyOnce, func(f *Final) {
			f.Ledger = append(f.Ledger, LedgerOp{Bank: "097", OperationRecord: banksim.OperationRecord{
				ID: "TX-D", AccountNum: "A1", Amount: 1000, Status: "applied", AfterBalance: 3000}})
			f.After[AccountKey{"097", "A1"}] = 3000
		}},
		{"balance below zero", CheckNonNegative, func(f *Final) { f.Ledger[0].AfterBalance = -1 }},
		{"completed without its credit", CheckExactlyOnce, func(f *Final) {
			f.Ledger = slices.Delete(f.Ledger, 1, 2)
			f.After[AccountKey{"088", "C1"}] = 10000
		}},
		{"failed but the debit stayed", CheckExactlyOnce, func(f *Final) {
			f.Ledger = slices.Delete(f.Ledger, 4, 5)
			f.After[AccountKey{"088", "C1"}] = 10500
		}},
		{"reversal on a completed transfer", CheckExactlyOnce, func(f *Final) {
			f.Ledger = append(f.Ledger, LedgerOp{Bank: "097", OperationRecord: banksim.OperationRecord{
				ID: "TA-R", AccountNum: "A1", Amount: 1000, Status: "applied", Credit: true, AfterBalance: 5000, RspCode: "000"}})
			f.After[AccountKey{"097", "A1"}] = 5000
		}},
		{"leg on the wrong account", CheckExactlyOnce, func(f *Final) { f.Ledger[1].AccountNum = "A2" }},
		{"two transfers for one bank_tran_id", CheckExactlyOnce, func(f *Final) {
			x := f.Transfers[2]
			x.ID = "TD"
			f.Transfers = append(f.Transfers, x)
		}},
		{"transfer nobody asked for", CheckExactlyOnce, func(f *Final) { f.Transfers[2].Amount = 1999 }},
		{"bank protocol and ledger disagree", CheckExactlyOnce, func(f *Final) { f.Protocol["TA-C"] = ProtocolOp{"088", "absent", ""} }},
		{"unfinished", CheckFinal, func(f *Final) { f.Transfers[1].State = "reversing" }},
		{"answered completed, ended failed", CheckResults, func(f *Final) {
			f.Ops[2].Attempts = append(f.Ops[2].Attempts, Attempt{Outcome: Completed})
		}},
		{"refused yet recorded", CheckResults, func(f *Final) {
			f.Transfers = append(f.Transfers, Transfer{ID: "TE", Kind: "withdraw", BankTranID: f.Ops[3].BankTranID,
				TranDay: "20261123", State: "failed", DebitBank: "097", DebitAccount: "A1", CreditBank: "088", CreditAccount: "C1", Amount: 3000})
		}},
		{"not found after in progress", CheckResults, func(f *Final) {
			f.Ops[1].Attempts = append(f.Ops[1].Attempts, Attempt{Start: f.Ops[1].Attempts[2].End.Add(time.Second), Result: true, Outcome: NotFound})
		}},
		{"unexpected answer", CheckResults, func(f *Final) {
			f.Ops[0].Attempts = append(f.Ops[0].Attempts, Attempt{Outcome: Unexpected, RspCode: "A0326"})
		}},
		{"transfer/result disagrees", CheckResults, func(f *Final) { f.Results[f.Ops[0].BankTranID] = Attempt{Outcome: Failed} }},
		{"daily limit overrun", CheckLimits, func(f *Final) { f.WithdrawLimit = 999 }},
		{"daily limit overrun before a raise", CheckLimits, func(f *Final) { f.LimitChanges[0].Old = 999 }},
		{"per-transfer limit overrun", CheckLimits, func(f *Final) { f.PerTransferLimit = 900 }},
		{"failed amount not given back", CheckLimits, func(f *Final) { f.Usage[2].Used = 500 }},
		{"limit given back twice", CheckLimits, func(f *Final) { f.Usage[0].Used = 0 }},
		{"completed without a movement", CheckSettlement, func(f *Final) { f.Movements = nil }},
		{"movement of a failed transfer", CheckSettlement, func(f *Final) {
			f.Movements = append(f.Movements, Movement{"TB", "088", "088", 500})
		}},
		{"movement between the wrong banks", CheckSettlement, func(f *Final) { f.Movements[0].FromBank = "020" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := sound()
			tc.Break(f)
			vs := Check(f)
			for _, v := range vs {
				if v.Check == tc.check {
					return
				}
			}
			var b strings.Builder
			for _, v := range vs {
				b.WriteString("\n\t" + v.String())
			}
			t.Errorf("check %q did not notice; violations:%s", tc.check, b.String())
		})
	}
}
