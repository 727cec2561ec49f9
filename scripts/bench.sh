#!/usr/bin/env bash
# Run every benchmark (benchmarks/*.py; files starting with "_" are helpers) on SQLite, then
# again on a throw-away PostgreSQL server (scripts/with-postgres.sh). Each benchmark makes its
# own database. The last stdout line of each run is its JSON result; they are repeated at the
# end. Figures are copied into BENCHMARKS.md by hand.
#   bash scripts/bench.sh                 # both databases
#   bash scripts/bench.sh --here [FILES]  # only against the current DATABASE_URL (or SQLite)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export PY
# benchmarks/guard_app.py serves the QR decoder from node_modules (package-lock.json).
[ -f node_modules/jsqr/dist/jsQR.js ] || npm ci --no-audit --no-fund --loglevel=error

# Benchmarks that use no database (the browser's pass verifier) run on the SQLite pass only.
NO_DATABASE=" benchmarks/passes_verify_browser.py "

run_here() {
  local files=("$@") file database=sqlite output
  [ -n "${DATABASE_URL:-}" ] && database=postgresql
  if [ ${#files[@]} -eq 0 ]; then
    files=(benchmarks/[!_]*.py)
  fi
  output=$(mktemp)
  for file in "${files[@]}"; do
    if [ "$database" = postgresql ] && [[ "$NO_DATABASE" == *" $file "* ]]; then
      continue
    fi
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
trap 'rm -f "$results" "$results.pg"' EXIT
env -u DATABASE_URL BENCH_RESULTS="$results" bash scripts/bench.sh --here
BENCH_RESULTS="$results.pg" bash scripts/with-postgres.sh bash scripts/bench.sh --here
echo "== results"
cat "$results" "$results.pg"
