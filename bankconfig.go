package obx

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// BankConfig is a participating bank as the center registers it in the
// console: how the hub reaches it and which credentials may. Every replica
// loads the registry and keeps it in step.
type BankConfig struct {
	Code      string // 3 digits, bank_code_std
	Name      string
	URL       string // the bank adapter's base URL; "" for a simulated bank in process
	Env       string // EnvSandbox, EnvLive, or "" for both
	CreatedAt time.Time
}

// MaintenanceWindow is a daily period, in KST, when the bank does not serve
// and the hub answers for it (KFTC's A0020) without calling it. A window
// whose end is before its start runs past midnight.
type MaintenanceWindow struct {
	From, To string // "HH:MM"
}

var kstZone = time.FixedZone("KST", 9*60*60)

// Contains reports whether t falls in the window.
func (w MaintenanceWindow) Contains(t time.Time) bool {
	now := t.In(kstZone).Format("15:04")
	if w.From <= w.To {
		return now >= w.From && now < w.To
	}
	return now >= w.From || now < w.To
}

// String renders the window as "HH:MM-HH:MM".
func (w MaintenanceWindow) String() string { return w.From + "-" + w.To }

// InMaintenance reports whether t falls in any of ws.
func InMaintenance(ws []MaintenanceWindow, t time.Time) bool {
	for _, w := range ws {
		if w.Contains(t) {
			return true
		}
	}
	return false
}

// ParseMaintenance reads windows written "23:30-00:30, 04:00-04:10".
func ParseMaintenance(s string) ([]MaintenanceWindow, error) {
	var out []MaintenanceWindow
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		from, to, ok := strings.Cut(part, "-")
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if !ok || !clock(from) || !clock(to) || from == to {
			return nil, Errorf(EINVALID, "Maintenance window %q is not HH:MM-HH:MM (KST).", part)
		}
		out = append(out, MaintenanceWindow{From: from, To: to})
	}
	if len(out) > 10 {
		return nil, Errorf(EINVALID, "At most 10 maintenance windows.")
	}
	return out, nil
}

func clock(s string) bool {
	t, err := time.Parse("15:04", s)
	return err == nil && t.Format("15:04") == s
}

// Validate checks a bank registration.
func (b *BankConfig) Validate() error {
	var bad []string
	if !digits(b.Code, 3) {
		bad = append(bad, "a 3-digit bank code")
	}
	if strings.TrimSpace(b.Name) == "" || len(b.Name) > 100 {
		bad = append(bad, "a name of 1 to 100 characters")
	}
	if b.URL != "" {
		u, err := url.Parse(b.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bad = append(bad, "an http(s) URL of the bank adapter, or none for a simulated bank")
		}
	}
	if b.Env != "" && b.Env != EnvSandbox && b.Env != EnvLive {
		bad = append(bad, fmt.Sprintf("an environment of %s, %s or both", EnvSandbox, EnvLive))
	}
	if len(bad) > 0 {
		return Errorf(EINVALID, "The bank needs %s.", strings.Join(bad, ", "))
	}
	return nil
}

// BankRegistry keeps the banks registered in the console.
type BankRegistry interface {
	// RegisteredBanks returns every registered bank, by code.
	RegisteredBanks(ctx context.Context) ([]*BankConfig, error)
	// RegisterBank adds a bank with its audit entry. ECONFLICT if the code is taken.
	RegisterBank(ctx context.Context, b *BankConfig, e *AuditEntry) error
	// Maintenance returns every bank's maintenance windows, by code.
	Maintenance(ctx context.Context) (map[string][]MaintenanceWindow, error)
	// SetMaintenance replaces a bank's maintenance windows with its audit entry.
	SetMaintenance(ctx context.Context, code string, ws []MaintenanceWindow, e *AuditEntry) error
}
