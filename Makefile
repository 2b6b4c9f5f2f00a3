# Two commands do all the set-up on a fresh machine with Python 3.11 and make:
#   make run   - the app with demo data on http://127.0.0.1:8000 (SQLite, embedded broker, worker + beat)
#   make test  - the whole suite (PostgreSQL and Redis when they answer; CI=true requires them)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Playwright drives Debian's Chromium (scripts/test.sh installs it with apt); it never downloads a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py run_embedded 127.0.0.1:8000

test: $(STAMP)
	bash scripts/test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	# The production settings pass Django's deployment checks (dummy secret and hosts; nothing is contacted).
	DJANGO_SETTINGS_MODULE=config.settings.production \
	DJANGO_SECRET_KEY=deploy-check-only-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH \
	DJANGO_ALLOWED_HOSTS=sqg.example.com DATABASE_URL=postgres://check@127.0.0.1:5432/check \
	REDIS_URL=redis://127.0.0.1:6379/0 $(PY) manage.py check --deploy --fail-level WARNING

# Benchmarks print figures (bench/RESULTS.md): SCALE=0.02 (20k promises) takes minutes, SCALE=1 a million.
SCALE ?= 0.02
bench: $(STAMP)
	SCALE=$(SCALE) bash bench/run_all.sh

clean:
	rm -rf var $(VENV)
