#!/usr/bin/env bash
# Run every benchmark (benchmarks/*.py; files starting with "_" are helpers) on SQLite, then
# again on a throw-away PostgreSQL server (scripts/with-postgres.sh). Each benchmark makes its
# own database. The last stdout line of each run is its JSON result; they are repeated at the
# end. Figures are copied into BENCHMARKS.md by hand.
# The benchmarks of a production server under load (gunicorn, the queue's worker) run their
# PostgreSQL pass on a durable server (PG_DURABLE=1: fsync on), which pays for every commit
# as production does; the others on the faster throw-away settings.
#   bash scripts/bench.sh                 # both databases
#   bash scripts/bench.sh --here [FILES]  # only against the current DATABASE_URL (or SQLite)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export PY
# benchmarks/guard_app.py serves the QR decoder from node_modules (package-lock.json).
[ -f node_modules/jsqr/dist/jsQR.js ] || npm ci --no-audit --no-fund --loglevel=error

DURABLE=(benchmarks/phone_peak.py benchmarks/scan_ingest.py benchmarks/status_refusal.py)
# Benchmarks that use no database (the browser's pass verifier) run on the SQLite pass only.
NO_DATABASE=" benchmarks/passes_verify_browser.py "

durable() {
  local file=$1 each
  for each in "${DURABLE[@]}"; do [ "$each" = "$file" ] && return 0; done
  return 1
}

run_here() {
  local files=("$@") file database=sqlite output
  [ -n "${DATABASE_URL:-}" ] && database=postgresql
  if [ ${#files[@]} -eq 0 ]; then
    for file in benchmarks/[!_]*.py; do
      # Without fsync, PostgreSQL leaves the durable ones to their own pass.
      if [ "$database" = postgresql ] && [ "${PG_DURABLE:-0}" != 1 ] && durable "$file"; then
        continue
      fi
      if [ "$database" = postgresql ] && [[ "$NO_DATABASE" == *" $file "* ]]; then
        continue
      fi
      files+=("$file")
    done
  fi
  [ "$database" = postgresql ] && [ "${PG_DURABLE:-0}" = 1 ] && database="postgresql, durable"
  output=$(mktemp)
  for file in "${files[@]}"; do
    echo "== $file ($database)"
    "$PY" "$file" | tee "$output"
    tail -n 1 "$output" >>"${BENCH_RESULTS:-/dev/null}"
  done
  rm -f "$output"
}

if [ "${1:-}" = "--here" ]; then
  shift
  run_here "$@"
  exit 0
fi

results=$(mktemp)
trap 'rm -f "$results" "$results.pg" "$results.pgd"' EXIT
env -u DATABASE_URL BENCH_RESULTS="$results" bash scripts/bench.sh --here
env -u PG_DURABLE BENCH_RESULTS="$results.pg" bash scripts/with-postgres.sh bash scripts/bench.sh --here
PG_DURABLE=1 BENCH_RESULTS="$results.pgd" bash scripts/with-postgres.sh \
  bash scripts/bench.sh --here "${DURABLE[@]}"
echo "== results"
cat "$results" "$results.pg" "$results.pgd"
