package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/obxhub/obx/internal/dbtest"
	"github.com/obxhub/obx/sqlstore"
)

func TestBenchTransfers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the hub under load for seconds, and pgbench")
	}
	dsn := dbtest.PostgresDSN(t)
	var out strings.Builder
	err := run(context.Background(), []string{"bench", "transfers", "--db", dsn, "--duration", "2s", "--warmup", "0s",
		"--concurrency", "2", "--banks", "2", "--pgbench-scale", "1", "--rounds", "2"}, &out, io.Discard)
	if err != nil {
		t.Fatalf("bench transfers: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, line := range []string{
		`^database +PostgreSQL \d+.*: synchronous_commit=on, fsync=on$`,
		`^hub +in process, simulated banks 097 \d{3}, sandbox$`,
		`^load +2 workers over HTTP on loopback, \d+ customer accounts, 1 won each, 2s after 0s warm-up$`,
		`^withdrawals +[1-9][\d,]* completed in 2s: \d+\.\d/s$`,
		`^latency +p50 \d+\.\dms  p95 \d+\.\dms  p99 \d+\.\dms  max \d+\.\dms$`,
		`^errors +none$`,
		`^round +2 of 2$`,
		`^summary +2 rounds of 2s, withdrawals and pgbench alternating$`,
		`^withdrawals +median \d+\.\d/s \(\d+\.\d–\d+\.\d\)$`,
		`^latency +all rounds: p50 \d+\.\dms  p95 \d+\.\dms  p99 \d+\.\dms  max \d+\.\dms$`,
		// pgbench is measured when installed, and explained when not.
		`^pgbench +(TPC-B-like, scale 1, pgbench -c 2 -j 2 -T 2 \(synchronous_commit=on\): \d+\.\d tps|not found: skipped.*)$`,
	} {
		if !regexp.MustCompile(`(?m)` + line).MatchString(text) {
			t.Errorf("output lacks a line matching %s:\n%s", line, text)
		}
	}
	if strings.Contains(text, " tps\n") {
		for _, line := range []string{
			`^ratio +withdrawals/s ÷ pgbench tps = \d+\.\d\d$`,
			`^ratio +median of the rounds' ratios = \d+\.\d\d \(\d+\.\d\d–\d+\.\d\d\)$`,
			`^target +median ratio ≥ 1: (met|NOT met); p99 of all rounds < 50 ms: (met|NOT met)$`,
		} {
			if !regexp.MustCompile(`(?m)` + line).MatchString(text) {
				t.Errorf("pgbench ran but the output lacks a line matching %s:\n%s", line, text)
			}
		}
	}
}

// TestRspCode reads the load generator's answers: the field as the hub writes
// it, any other JSON by decoding, and what is not JSON as "decode".
func TestRspCode(t *testing.T) {
	for answer, want := range map[string]string{
		`{"api_tran_id":"x","rsp_code":"A0000","rsp_message":""}`:   "A0000",
		`{"rsp_message":"a \"rsp_code\":\"X\"","rsp_code":"A0003"}`: "A0003",
		`{"rsp_code": "A0007"}`:          "A0007",
		`{"rsp_code":"A\u0030003"}`:      "A0003",
		`<html>Bad gateway</html>`:       "decode",
		`{"rsp_code":"A0000"`:            "A0000",
		`{"api_tran_id":"x","bank":"1"}`: "",
	} {
		if got := rspCode([]byte(answer)); got != want {
			t.Errorf("rspCode(%s) = %q, want %q", answer, got, want)
		}
	}
}

// TestBenchProducts runs the product bench for a second on a tiny data set
// and a temporary SQLite file, and checks that its report parses.
func TestBenchProducts(t *testing.T) {
	var out strings.Builder
	err := run(context.Background(), []string{"bench", "products", "--banks", "2", "--atms", "40", "--branches", "4",
		"--duration", "1s", "--warmup", "0s", "--concurrency", "2"}, &out, io.Discard)
	if err != nil {
		t.Fatalf("bench products: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, line := range []string{
		`^database +SQLite, a temporary file$`,
		`^data set +2 banks × \(40 ATMs \+ 4 branches \+ demo products\), published in \S+$`,
		`^memory +hub live heap \d+\.\d MiB before publishing, \d+\.\d MiB after: [+-]\d+\.\d MiB for the data set; heap in use \d+\.\d MiB → \d+\.\d MiB$`,
		`^load +2 workers over HTTP on loopback, 50% nearest-ATM queries, 1s after 0s warm-up$`,
		`^query +requests +per s +p50 +p95 +p99 +max +errors$`,
		`^nearby +[1-9][\d,]* +\d+\.\d( +\d+\.\d\dms){4}  none\n  in hub +[1-9][\d,]*( +\d+\.\d\dms){4}$`,
		`^compare +[1-9][\d,]* +\d+\.\d( +\d+\.\d\dms){4}  none\n  in hub +[1-9][\d,]*( +\d+\.\d\dms){4}$`,
		`^target +in the hub: nearby p99 < 2\.00ms: (met|NOT met); compare p99 < 5\.00ms: (met|NOT met)$`,
	} {
		if !regexp.MustCompile(`(?m)` + line).MatchString(text) {
			t.Errorf("output lacks a line matching %s:\n%s", line, text)
		}
	}
}

func TestBenchRefuses(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench"}, "help requested"},
		{[]string{"bench", "nothing"}, `unknown benchmark "nothing"`},
		{[]string{"bench", "transfers", "--db", "sqlite:///tmp/x.db"}, "PostgreSQL"},
		{[]string{"bench", "transfers", "--db", "postgres://x/y", "--banks", "7"}, "--banks"},
		{[]string{"bench", "transfers", "--db", "postgres://x/y", "--concurrency", "0"}, "--concurrency"},
		{[]string{"bench", "transfers", "--db", "postgres://x/y", "--duration", "10ms"}, "--duration"},
		{[]string{"bench", "transfers", "--db", "postgres://x/y", "--rounds", "0"}, "--rounds"},
		{[]string{"bench", "products", "--banks", "0"}, "--banks"},
		{[]string{"bench", "products", "--atms", "0"}, "--atms"},
		{[]string{"bench", "products", "--nearby-share", "1.5"}, "--nearby-share"},
		{[]string{"bench", "products", "--duration", "10ms"}, "--duration"},
	} {
		err := run(context.Background(), tc.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}

func TestBenchRefusesAHubDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a hub")
	}
	dsn := dbtest.PostgresDSN(t)
	seedTSP(t, dsn, "T991000007")
	err := run(context.Background(), []string{"bench", "transfers", "--db", dsn, "--duration", "1s"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not the bench's") {
		t.Errorf("bench on a database with a real TSP: %v, want a refusal", err)
	}
}

func TestSettleAndBenchHelp(t *testing.T) {
	for _, args := range [][]string{{"settle", "--help"}, {"bench", "transfers", "--help"}, {"bench", "products", "--help"}} {
		var errOut strings.Builder
		if err := run(context.Background(), args, io.Discard, &errOut); err == nil {
			t.Errorf("%v returned nil, want flag.ErrHelp", args)
		}
		name := strings.Join(args[:len(args)-1], " ")
		for _, want := range []string{"Usage: obx " + name + " [flags]", "--db\t", "[$OBX_DB]"} {
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("%s --help lacks %q:\n%s", name, want, errOut.String())
			}
		}
	}
}

// TestCrowdedWarning: the bench warns before measuring when pgbench's
// clients would not fit beside the hub's pool and the other sessions.
func TestCrowdedWarning(t *testing.T) {
	room := 100 - sqlstore.PostgresPoolSize - 5
	if w := crowdedWarning(room, 100, 5); w != "" {
		t.Errorf("%d clients fit exactly, warned %q", room, w)
	}
	w := crowdedWarning(room+1, 100, 5)
	if !strings.Contains(w, "max_connections=100") || !strings.Contains(w, fmt.Sprintf("need %d connections", 101)) {
		t.Errorf("one client too many: warning %q", w)
	}
}
