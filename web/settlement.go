package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/obxhub/obx"
)

// Settlement in the console: every role sees the cycles and each bank's net
// position; admins close a cycle once its cut-off has passed. The page and
// the admin API call the same service, which checks the role and audits the
// closing.

// settlementPageSize is how many cycles the page and the API list.
const settlementPageSize = 60

func (s *Server) settlementRoutes(mux *http.ServeMux) {
	if s.Settlements == nil {
		return
	}
	c := func(h handler) http.HandlerFunc { return s.wrap("console", true, h) }
	mux.HandleFunc("GET /console/settlements", c(s.handleSettlements))
	mux.HandleFunc("POST /console/settlements/{date}/close", c(s.handleCloseCycle))
	const p = "/console/api/v1"
	mux.HandleFunc("GET "+p+"/settlements", s.api(true, s.apiCycles))
	mux.HandleFunc("GET "+p+"/settlements/{date}", s.api(true, s.apiCycle))
	mux.HandleFunc("POST "+p+"/settlements/{date}/close", s.api(true, s.apiCloseCycle))
}

// positionJSON is one bank's multilateral net position: positive, the bank
// receives that much at settlement; negative, it pays.
type positionJSON struct {
	BankCode    string `json:"bank_code"`
	BankName    string `json:"bank_name"`
	NetPosition int64  `json:"net_position"`
}

// cycleJSON is a settlement cycle: a closed cycle's report, or an open
// cycle's positions so far. `obx settle --format json` prints the report's
// fields too.
type cycleJSON struct {
	Day          string         `json:"day"` // KST business day, YYYYMMDD
	State        string         `json:"state"`
	CutoffAt     time.Time      `json:"cutoff_at"`
	Closable     bool           `json:"closable"` // open and past its cut-off
	ClosedAt     *time.Time     `json:"closed_at"`
	Currency     string         `json:"currency"`
	Movements    int64          `json:"movements"`
	GrossTotal   int64          `json:"gross_total"`
	Positions    []positionJSON `json:"positions"`
	PositionsSum int64          `json:"positions_sum"` // always 0
	Balanced     bool           `json:"balanced"`
}

// cycleView is a cycle with its positions ordered by bank code and named.
func (s *Server) cycleView(c *obx.SettlementCycle) cycleJSON {
	out := cycleJSON{Day: c.Day, State: "open", CutoffAt: c.End.UTC(), Closable: c.Closable(s.Now()),
		ClosedAt: timePtr(c.ClosedAt.UTC()), Currency: "KRW", Movements: c.Movements, GrossTotal: c.Total,
		Positions: []positionJSON{}}
	if c.Closed() {
		out.State = "closed"
	}
	for code, pos := range c.Positions {
		p := positionJSON{BankCode: code, NetPosition: pos}
		if b, err := s.Banks.Bank(code); err == nil {
			p.BankName = b.Name()
		}
		out.Positions = append(out.Positions, p)
		out.PositionsSum += pos
	}
	slices.SortFunc(out.Positions, func(a, b positionJSON) int { return strings.Compare(a.BankCode, b.BankCode) })
	out.Balanced = out.PositionsSum == 0
	return out
}

// settlementDay reads {date}: a KST business day YYYYMMDD.
func settlementDay(r *http.Request) (string, error) {
	day := r.PathValue("date")
	if _, err := time.Parse("20060102", day); err != nil || len(day) != 8 {
		return "", obx.Errorf(obx.EINVALID, "The date must be a business day YYYYMMDD, not %q.", day)
	}
	return day, nil
}

// apiCycles handles "GET /console/api/v1/settlements".
func (s *Server) apiCycles(w http.ResponseWriter, r *http.Request, a obx.Actor) (any, error) {
	cs, err := s.Settlements.Cycles(r.Context(), a, settlementPageSize)
	if err != nil {
		return nil, err
	}
	out := []cycleJSON{}
	for _, c := range cs {
		out = append(out, s.cycleView(c))
	}
	return out, nil
}

// apiCycle handles "GET /console/api/v1/settlements/{date}".
func (s *Server) apiCycle(w http.ResponseWriter, r *http.Request, a obx.Actor) (any, error) {
	day, err := settlementDay(r)
	if err != nil {
		return nil, err
	}
	c, err := s.Settlements.Cycle(r.Context(), a, day)
	if err != nil {
		return nil, err
	}
	return s.cycleView(c), nil
}

// apiCloseCycle handles "POST /console/api/v1/settlements/{date}/close":
// close the cycle (admins, past its cut-off) and answer its report.
// Repeating it answers the same report.
func (s *Server) apiCloseCycle(w http.ResponseWriter, r *http.Request, a obx.Actor) (any, error) {
	day, err := settlementDay(r)
	if err != nil {
		return nil, err
	}
	if err := s.closeCycle(r, a, day); err != nil {
		return nil, err
	}
	c, err := s.Settlements.Cycle(r.Context(), a, day)
	if err != nil {
		return nil, err
	}
	return s.cycleView(c), nil
}

// closeCycle closes day's cycle and logs a report whose positions do not
// sum to zero, which cannot happen (every movement adds to one bank what it
// takes from another) and the operators must hear of.
func (s *Server) closeCycle(r *http.Request, a obx.Actor, day string) error {
	st, err := s.Settlements.Close(r.Context(), a, day)
	if err != nil {
		return err
	}
	var sum int64
	for _, p := range st.Positions {
		sum += p
	}
	if sum != 0 {
		s.Logger.Error("settlement positions do not sum to zero", "day", day, "sum", sum)
	}
	return nil
}

type settlementsData struct {
	Cycles []cycleJSON
	Admin  bool
}

// handleSettlements handles "GET /console/settlements".
func (s *Server) handleSettlements(w http.ResponseWriter, r *http.Request, v *visitor) error {
	cs, err := s.Settlements.Cycles(r.Context(), v.actor, settlementPageSize)
	if err != nil {
		return err
	}
	d := &settlementsData{Admin: v.actor.Staff.Can("admin")}
	for _, c := range cs {
		d.Cycles = append(d.Cycles, s.cycleView(c))
	}
	p := s.consolePage(v, "Settlement", d)
	p.Flash = r.URL.Query().Get("done")
	s.render(w, r, http.StatusOK, "console_settlements", p)
	return nil
}

// handleCloseCycle handles "POST /console/settlements/{date}/close".
func (s *Server) handleCloseCycle(w http.ResponseWriter, r *http.Request, v *visitor) error {
	day, err := settlementDay(r)
	if err != nil {
		return err
	}
	if err := s.closeCycle(r, v.actor, day); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/settlements?done="+urlEscape("Settlement cycle "+day+" closed."), http.StatusSeeOther)
	return nil
}
