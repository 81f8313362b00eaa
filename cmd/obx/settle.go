package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/banksim"
	"github.com/obxhub/obx/sqlstore"
)

func runSettle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("settle", "Closes one business day's settlement cycle and prints each bank's multilateral net\nposition (positive: the bank receives), the number and gross total of the\ninterbank movements, and a check that the positions sum to zero. A cycle\ncloses only after its cut-off; closing is idempotent, so running it again\nprints the same report. It exits non-zero if the positions do not sum to zero.", stderr)
	dsn := fs.String("db", "", "database URL: postgres://… or sqlite://path (required)")
	date := fs.String("date", "", "the cycle's KST business day, YYYYMMDD (required)")
	format := fs.String("format", "text", "output format: text or json")
	cutoffFlag := fs.String("settlement-cutoff", "24:00", "KST time HH:MM at which a business day's cycle ends; the same value as obx serve's")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dsn == "" || *date == "" {
		return fmt.Errorf("--db and --date are required")
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("--format must be text or json, not %q", *format)
	}
	cutoff, err := sqlstore.ParseCutoff(*cutoffFlag)
	if err != nil {
		return fmt.Errorf("--settlement-cutoff: %s", obx.ErrorMessage(err))
	}
	db, err := sqlstore.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := (&sqlstore.Cycles{DB: db, Cutoff: cutoff}).Settle(ctx, *date, time.Now())
	if err != nil {
		return err
	}
	rep := newSettlementReport(st, banksim.DemoBankName)
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.writeText(stdout)
	}
	if !rep.Balanced {
		return fmt.Errorf("settlement %s: the net positions sum to %d, not 0", rep.Day, rep.PositionsSum)
	}
	return nil
}

// settlementReport is what obx settle prints: the fields of the console
// admin API's settlement cycle (GET /console/api/v1/settlements/{date}).
type settlementReport struct {
	Day          string         `json:"day"`
	ClosedAt     time.Time      `json:"closed_at"`
	Currency     string         `json:"currency"`
	Movements    int64          `json:"movements"`
	GrossTotal   int64          `json:"gross_total"`
	Positions    []bankPosition `json:"positions"`
	PositionsSum int64          `json:"positions_sum"`
	Balanced     bool           `json:"balanced"`
}

type bankPosition struct {
	BankCode    string `json:"bank_code"`
	BankName    string `json:"bank_name"`
	NetPosition int64  `json:"net_position"`
}

// newSettlementReport orders st's positions by bank code and names the banks
// that name knows.
func newSettlementReport(st *obx.Settlement, name func(code string) string) *settlementReport {
	rep := &settlementReport{Day: st.Day, ClosedAt: st.ClosedAt.UTC(), Currency: "KRW",
		Movements: st.Movements, GrossTotal: st.Total, Positions: []bankPosition{}}
	for code, pos := range st.Positions {
		rep.Positions = append(rep.Positions, bankPosition{BankCode: code, BankName: name(code), NetPosition: pos})
		rep.PositionsSum += pos
	}
	slices.SortFunc(rep.Positions, func(a, b bankPosition) int { return strings.Compare(a.BankCode, b.BankCode) })
	rep.Balanced = rep.PositionsSum == 0
	return rep
}

var kstZone = time.FixedZone("KST", 9*60*60)

func (rep *settlementReport) writeText(w io.Writer) {
	fmt.Fprintf(w, "settlement cycle %s (KST business day), closed %s KST\n\n",
		rep.Day, rep.ClosedAt.In(kstZone).Format("2006-01-02 15:04:05"))
	fmt.Fprintf(w, "%-6s %20s  %s\n", "bank", "net position (KRW)", "name")
	for _, p := range rep.Positions {
		fmt.Fprintf(w, "%-6s %20s  %s\n", p.BankCode, groupDigits(p.NetPosition), p.BankName)
	}
	fmt.Fprintf(w, "\nmovements    %s\ngross total  %s KRW\n", groupDigits(rep.Movements), groupDigits(rep.GrossTotal))
	if rep.Balanced {
		fmt.Fprintf(w, "check        OK: the %d positions sum to 0\n", len(rep.Positions))
	} else {
		fmt.Fprintf(w, "check        FAILED: the positions sum to %s, not 0\n", groupDigits(rep.PositionsSum))
	}
}

// groupDigits writes n with thousands separators: 1234567 → "1,234,567".
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String()
}

// settleConfig configures settlement in obx serve: the business day's
// cut-off. Cycles are closed from the operator console (or obx settle).
type settleConfig struct {
	Cutoff sqlstore.Cutoff
}

func parseSettleConfig(cutoff string) (settleConfig, error) {
	c, err := sqlstore.ParseCutoff(cutoff)
	if err != nil {
		return settleConfig{}, fmt.Errorf("--settlement-cutoff: %s", obx.ErrorMessage(err))
	}
	return settleConfig{Cutoff: c}, nil
}
