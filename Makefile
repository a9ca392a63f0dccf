# The two commands: `make run` (embedded default: SQLite, in-process cache,
# eager Celery, demo data) and `make test` (real PostgreSQL and Redis, started
# when down; Debian's Chromium, installed when missing: scripts/test-services.sh).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint venv migrate seed worker beat smoke bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt clients/python/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

migrate: venv
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

# The server starts in the background so that its own start-up lines come
# first and the output ends with the admin URL and login.
run: seed
	@$(PY) manage.py runserver $(HOST):$(PORT) & pid=$$!; \
	trap 'kill $$pid 2>/dev/null' INT TERM EXIT; \
	$(PY) -c "import socket,time;d=time.time()+30;exec('while time.time()<d:\n try:\n  socket.create_connection((\"$(HOST)\",$(PORT)),0.5).close();break\n except OSError:\n  time.sleep(0.2)')"; \
	echo ""; \
	echo "  Try:    $(PY) manage.py enrich customer_123 --format prompt"; \
	echo "  Admin:  http://$(HOST):$(PORT)/admin/   login: admin / admin   (Ctrl-C stops the server)"; \
	echo ""; \
	wait $$pid

test: venv
	bash scripts/test-services.sh
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

worker: venv
	$(VENV)/bin/celery -A config worker -l info -Q celery,external,refresh

beat: venv
	$(VENV)/bin/celery -A config beat -l info

# The embedded default, end to end, on a throwaway SQLite file.
smoke: venv
	@tmp=$$(mktemp -d); \
	env -u DATABASE_URL -u REDIS_URL DATABASE_URL=sqlite:///$$tmp/smoke.sqlite3 sh -c '\
	  $(PY) manage.py migrate --noinput -v0 && \
	  $(PY) manage.py seed_demo --customers 20 && \
	  $(PY) manage.py check && \
	  $(PY) manage.py rollup_verify --days 0 && \
	  $(PY) manage.py enrich customer_123 --format prompt && \
	  $(PY) manage.py enrich customer_123 --format summary' ; rc=$$?; rm -rf $$tmp; exit $$rc

# The benchmark (bench/README.md): PostgreSQL and Redis on their standard ports,
# its own database (enrichment_bench) and Redis DB 11. BENCH_SCALE=small for a quick look;
# BENCH_SCALE=xl: 10x full in enrichment_bench_xl and Redis DB 14, compared with full in the
# same run. BENCH_ARGS: more options of bench.run (--skip-api, --generate-only).
BENCH_SCALE ?= full
BENCH_ARGS ?=
bench: venv
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m bench.run --scale $(BENCH_SCALE) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
