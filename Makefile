# Two commands for a newcomer: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/parsalink

.PHONY: run test lint install bench bench-smoke bench-inprocess fuzz fuzz-long soak clean compose-test

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The server alone needs `pip install -e .`; tests and tools add the dev extra.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed

run: $(VENV)/.installed-run
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --no-input -v 0
	DJANGO_DEBUG=1 $(BIN)/python manage.py seeddemo
	@echo "Serving on http://127.0.0.1:$(PORT)/  (API docs: http://127.0.0.1:$(PORT)/api/docs/)"
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-test-only-secret-key-not-for-production} \
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .ruff_cache

# Benchmarks (docs/performance.md): PostgreSQL at 127.0.0.1:5432 (or BENCH_PG_URL), Redis at
# 127.0.0.1:6379 (or BENCH_REDIS_URL) for the Redis topology beside the DB-only one, wrk from
# Debian (installed if missing), the stock peers' packages from the bench extra.
$(VENV)/.installed-bench: pyproject.toml | $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-smoke: $(VENV)/.installed-bench
	$(BIN)/python -m bench --smoke

# CPU per list request in-process, ours and the stock peer (bench/inprocess.py, ~2 min).
bench-inprocess: $(VENV)/.installed-bench
	$(BIN)/python -m bench.inprocess $(BENCH_ARGS)

# The CI fuzzing alone (a few minutes): every operation, as a JWT and as an API key.
fuzz: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-test-only-secret-key-not-for-production} \
	$(BIN)/pytest tests/reliability/test_fuzz.py -p no:warnings $(PYTEST_ARGS)

fuzz-long: install
	$(BIN)/python -m tests.reliability.fuzz_long $(FUZZ_ARGS)

soak: install
	$(BIN)/python -m tests.reliability.soak $(SOAK_ARGS)

# The compose stack built and run for real, every docs/operations.md promise checked through
# Caddy over HTTPS (tests/compose/run_stack.py; root, 6-8 min, needs no venv or engine).
compose-test:
	$(PYTHON) tests/compose/run_stack.py $(COMPOSE_TEST_ARGS)
