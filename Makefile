# One entry point per chore; .ci/run calls the same targets.

.PHONY: run test test-short lint bench fuzz ci

run:            ## the hub with demo data on SQLite (README's first command)
	go run ./cmd/obx demo

test:           ## every test, on SQLite and PostgreSQL (skips PostgreSQL if unreachable, unless CI=true)
	go test -race -count=1 ./...

test-short:     ## quick tests only
	go test -short ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	go tool staticcheck ./...

bench:          ## benchmarks of the hot paths
	go test -run '^$$' -bench . -benchmem ./...

fuzz:           ## a short run of each fuzz target
	go test -run '^$$' -fuzz FuzzDecodeBody -fuzztime 30s ./kftc
	go test -run '^$$' -fuzz FuzzProductQuery -fuzztime 30s ./http

ci: lint test
