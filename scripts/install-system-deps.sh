#!/usr/bin/env bash
# Install what the tests need from Debian when it is missing: Chromium (browser tests),
# a CJK font (Chinese text in screenshots and PDFs), PostgreSQL 15 (second database),
# gettext (compiling translations), Pango (PDF rendering), Node.js and npm (the browser
# libraries of package-lock.json), wrk (the load of benchmarks/phone_peak.py). Does nothing
# when everything is there.
#   bash scripts/install-system-deps.sh          # everything above
#   bash scripts/install-system-deps.sh --node   # only Node.js and npm (make demo)
set -euo pipefail
missing=()
command -v npm >/dev/null || missing+=(nodejs npm)
if [ "${1:-}" != "--node" ]; then
  command -v chromium >/dev/null || missing+=(chromium)
  fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v msgfmt >/dev/null || missing+=(gettext)
  # WeasyPrint (quarantine notices as PDF) draws text with Pango.
  ldconfig -p | grep -q libpangoft2-1.0 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
  command -v wrk >/dev/null || missing+=(wrk)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
