package obx

import (
	"fmt"
	"strconv"
)

// Money is an amount in integer minor units of an ISO 4217 currency. KRW has no
// minor unit, so 1 won is Amount 1. float64 never touches an amount.
type Money struct {
	Amount   int64
	Currency string
}

// KRW returns an amount of Korean won.
func KRW(won int64) Money { return Money{Amount: won, Currency: "KRW"} }

// String renders the amount and currency, e.g. "15000 KRW".
func (m Money) String() string { return strconv.FormatInt(m.Amount, 10) + " " + m.Currency }

// ParseAmount parses a non-negative decimal integer amount of at most digits digits,
// as the KFTC N(n) fields carry amounts.
func ParseAmount(s string, digits int) (int64, error) {
	if s == "" || len(s) > digits {
		return 0, fmt.Errorf("amount %q: want 1 to %d digits", s, digits)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("amount %q: not a non-negative integer", s)
		}
	}
	return strconv.ParseInt(s, 10, 64)
}
