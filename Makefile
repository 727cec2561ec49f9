# fangkong — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export FANGKONG_ENV ?= development

.PHONY: demo test lint typecheck test-sqlite test-postgres test-clock bench system-deps messages clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

# Browser libraries pinned in package-lock.json (the guard scanner's QR decoder, jsQR),
# served as static files: installed here, never fetched at run time.
NODE_DEPS := node_modules/.installed
$(NODE_DEPS): package.json package-lock.json
	command -v npm >/dev/null || bash scripts/install-system-deps.sh --node
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Run the platform with demo data on SQLite at http://127.0.0.1:8000
demo: $(VENV)/.installed $(NODE_DEPS)
	mkdir -p var
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py createcachetable
	$(PY) manage.py seed_demo --scale small --if-empty
	bash scripts/demo.sh

## Lint, type-check and run the whole suite on SQLite, then on a real PostgreSQL 15
test: $(VENV)/.installed system-deps $(NODE_DEPS) lint typecheck test-sqlite test-postgres test-clock

system-deps:
	bash scripts/install-system-deps.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

# Each run spreads its tests over as many processes as the machine has cores (each process
# has its own test database).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

test-sqlite: $(VENV)/.installed
	FANGKONG_ENV=test $(PY) -m pytest -q -n $(TEST_WORKERS)

# The volume tests (thousands of requests through the same code) and the browser tests (the
# pages in Chromium) run once, on SQLite, to keep the suite short; the database-specific
# parts they touch have their own tests on both databases.
test-postgres: $(VENV)/.installed
	FANGKONG_ENV=test bash scripts/with-postgres.sh $(PY) -m pytest -q -n $(TEST_WORKERS) -m "not volume and not browser"

## The suite (without the browser) again at two awkward instants, Asia/Shanghai: the eve of
## National Day just before midnight, and just after midnight on the holiday
CLOCK_INSTANTS := 2026-09-30T23:50:00+08:00 2026-10-01T00:10:00+08:00
test-clock: $(VENV)/.installed
	for now in $(CLOCK_INSTANTS); do \
	  echo "Suite with now = $$now"; \
	  FANGKONG_ENV=test FANGKONG_TEST_NOW=$$now $(PY) -m pytest -q -n $(TEST_WORKERS) -m "not browser and not fuzz and not volume" || exit 1; \
	done

## Run every benchmark (SQLite and PostgreSQL); figures go to BENCHMARKS.md by hand
bench: $(VENV)/.installed system-deps $(NODE_DEPS)
	bash scripts/bench.sh

## Re-extract and compile translations (needs gettext)
messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=benchmarks --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var staticfiles node_modules
