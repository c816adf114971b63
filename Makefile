# SenMart support assistant. Entry points: make run, make test (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
RASA    := $(VENV)/bin/rasa
MODEL   := models/senmart.tar.gz
MODEL_EVAL := models/senmart.eval.json
STAMP   := $(VENV)/.installed
# the chat page's only npm dependency, bundled at build time (nothing comes from a CDN at run time)
CHAT_JS := handoff/static/chat/vendor/socket.io.min.js
# the pages' scripts (ES modules in web/src/) and the console's and the studio's stylesheets (web/src/*/*.css,
# importing web/src/shared/base.css) bundled by web/build.mjs (esbuild, pinned in web/package.json) into the
# files the services serve; generated, so git ignores them (web/README.md)
BUNDLES := handoff/static/console.js handoff/static/chat/chat.js studio/static/studio.js studio/static/report.js \
	staff/static/signin.js staff/static/admin.js handoff/static/console.css studio/static/studio.css
WEB_SRC := $(shell find web/src -name '*.js' -o -name '*.css' 2>/dev/null)
# web/node_modules as `npm ci` left it from web/package-lock.json (esbuild, eslint, socket.io-client)
NODE_DEPS := web/node_modules/.installed
WEB_BUILD := $(CHAT_JS) $(BUNDLES)
export TF_CPP_MIN_LOG_LEVEL ?= 2
# pytest workers of `make test` / `make test-fast` (pytest-xdist; tests/conftest.py schedules the files)
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
# the installer of `make setup` (pip installs uv itself; docs/testing.md)
UV_VERSION := 0.13.9
# the lanes that need no trained model (tests/conftest.py): `make test` runs them while the model trains
NO_MODEL_LANES := not slow and not training and not model
# the bot's clock is the real date unless SENMART_TODAY=YYYY-MM-DD is set
# data read at run time, not training data: promotions (action server, entity rules), canned replies,
# holidays (handoff service), anger and request-for-a-person lexicons (read when Rasa starts)
TRAIN_INPUTS := config.yml domain.yml $(filter-out data/promotions.yml data/canned_replies.yml data/holidays.yml data/anger_lexicon.yml data/human_request.yml,$(shell find data -name '*.yml' 2>/dev/null)) $(wildcard bot/nlu/*.py bot/policies/*.py)

# Python 3.10 found by running it (a pyenv shim on PATH may exist and still fail).
find_python = $(shell for c in python3.10 $$HOME/.pyenv/versions/3.10.*/bin/python "env PYENV_VERSION=3.10 python"; do \
	if $$c -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then echo "$$c"; break; fi; done)

.PHONY: help setup train run test test-fast lint validate unit web-test story-test browser-deps nginx-deps bench-deps bench abuse deploy-smoke clean

help:
	@echo "make run    - set up, train if needed, start Redis + action server + Rasa (+ nginx) (Ctrl-C stops all)"
	@echo "make test   - set up, train if needed, run every test"
	@echo "make test-fast - lint and the tests without the slow, training and browser lanes"
	@echo "make bench  - benchmarks into benchmarks/RESULTS.md"
	@echo "make deploy-smoke - build and run deploy/ with podman (2 Rasa replicas), drive every channel through nginx"
	@echo "make train | lint | validate | web-test | clean"

setup: $(STAMP) $(WEB_BUILD)

$(STAMP): requirements.txt requirements-runtime.txt constraints.txt
	@PYTHON="$(call find_python)"; \
	if [ -z "$$PYTHON" ]; then \
		echo "ERROR: Python 3.10 is required (Rasa 3.6 does not install on 3.11+)."; \
		echo "Install it (e.g. 'pyenv install 3.10.13') so that 'python3.10' or ~/.pyenv/versions/3.10.*/bin/python runs."; \
		exit 1; fi; \
	echo "Using $$PYTHON"; \
	[ -x $(PY) ] || $$PYTHON -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==24.0 uv==$(UV_VERSION)
	@# uv installs the same pinned set (constraints.txt names every package, transitive ones too) in about
	@# 30 s where pip takes about 2 min (parallel unpacking and bytecode compilation); pip if uv fails
	$(VENV)/bin/uv pip install --quiet --python $(PY) --compile-bytecode -r requirements.txt -c constraints.txt \
		|| $(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip check
	@touch $@

$(NODE_DEPS): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "ERROR: npm (Node.js 20.19+) is required to build the pages' scripts."; exit 1; }
	npm ci --prefix web --no-audit --no-fund
	@touch $@

$(CHAT_JS): $(NODE_DEPS)
	@mkdir -p $(@D)
	cp web/node_modules/socket.io-client/dist/socket.io.min.js $@

# one esbuild run writes the eight bundles (a grouped target); editing any source under web/src rebuilds them
$(BUNDLES) &: $(NODE_DEPS) web/build.mjs $(WEB_SRC)
	node web/build.mjs

train: $(MODEL)

$(MODEL): $(STAMP) $(TRAIN_INPUTS)
	@mkdir -p models var/log
	$(RASA) train --fixed-model-name senmart --out models --quiet
	@# its evaluation on evaluation/ (about 30 s), beside it: the studio's report shows it from the start and
	@# the first training's gate compares with it instead of evaluating the live model (studio/models.py)
	$(PY) -m studio.evaluate $(MODEL) evaluation/heldout.yml --out $(MODEL_EVAL) > var/log/model-evaluation.log 2>&1 \
		|| { tail -n 20 var/log/model-evaluation.log; exit 1; }
	@grep -o 'accuracy .*' var/log/model-evaluation.log | tail -n 1
	@touch $@

run: $(MODEL) $(WEB_BUILD) nginx-deps
	$(PY) -m bot run

lint: $(STAMP) $(NODE_DEPS)
	$(VENV)/bin/ruff check bot actions common handoff staff studio evaluation testkit tests benchmarks tools
	$(VENV)/bin/ruff format --check bot actions common handoff staff studio evaluation testkit tests benchmarks tools
	$(PY) tools/import_graph.py
	cd web && node_modules/.bin/eslint --max-warnings 0 .

validate: $(STAMP)
	$(RASA) data validate --fail-on-warnings --quiet

unit: $(STAMP)
	$(VENV)/bin/pytest -q tests/bot tests/actions

# the pure functions of the pages' scripts (web/test/, node's built-in test runner)
web-test: $(NODE_DEPS)
	node --test web/test/

# Rasa's story tests alone (make test runs the same command inside pytest: tests/test_stories.py)
story-test: $(MODEL)
	$(RASA) test core --e2e --model $(MODEL) --stories tests/test_stories.yml --fail-on-prediction-errors --out var/results/stories --quiet

# the agent-console browser test drives Debian's chromium (installed here when missing, as root)
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver; \
		else echo "ERROR: browser tests need Debian's chromium and chromium-driver:"; \
		echo "  sudo apt-get install chromium chromium-driver"; exit 1; fi; fi

# Rasa trains its components one after another, on about one core, then evaluates the model: meanwhile the
# other core runs lint, the web tests, `rasa data validate` and the tests that need no model (every package's
# logic and API, the pages in Chromium; one worker: with two, the training slowed more than they gained);
# then the lanes that need the model run on one worker per core (docs/testing.md). The training runs in its
# own process group, stopped with the rest on Ctrl-C (a shell's background job ignores SIGINT).
test: $(STAMP) $(WEB_BUILD) browser-deps nginx-deps
	@mkdir -p var/log
	@echo "make train > var/log/train.log (in the background)"
	@setsid $(MAKE) --no-print-directory train > var/log/train.log 2>&1 & training=$$!; status=0; \
	trap 'kill -TERM -- -$$training 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(MAKE) --no-print-directory lint web-test validate || status=1; \
	echo "$(VENV)/bin/pytest -q -n 1 tests -m \"$(NO_MODEL_LANES)\""; \
	$(VENV)/bin/pytest -q -n 1 tests -m "$(NO_MODEL_LANES)" || status=1; \
	if ! wait $$training; then tail -n 40 var/log/train.log; echo "ERROR: make train failed (var/log/train.log)"; exit 1; fi; \
	echo "$(VENV)/bin/pytest -q -n $(TEST_WORKERS) tests -m \"not ($(NO_MODEL_LANES))\""; \
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS) tests -m "not ($(NO_MODEL_LANES))" || status=1; \
	exit $$status

# every package's logic and API tests, without the slow lanes (tests/conftest.py): no trained model needed
test-fast: $(STAMP) $(WEB_BUILD) lint web-test nginx-deps
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS) tests -m "not slow and not training and not browser and not model"

# `python -m bot run` puts Debian's nginx in front of its Rasa processes when RASA_WORKERS > 1 (the default
# on a machine with several cores): installed here when missing, as root
nginx-deps:
	@if [ ! -x /usr/sbin/nginx ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nginx-light; \
		else echo "ERROR: several Rasa processes (RASA_WORKERS > 1) need nginx in front of them:"; \
		echo "  sudo apt-get install nginx-light   (or run with RASA_WORKERS=1)"; exit 1; fi; fi

# the scale benchmark compares Sanic workers with Rasa processes behind nginx; the abuse benchmark
# restarts Debian's redis-server (with a password) under load
bench-deps: nginx-deps
	@if [ ! -x /usr/bin/redis-server ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq redis-server; \
		else echo "ERROR: the benchmarks need redis-server: sudo apt-get install redis-server"; exit 1; fi; fi

bench: $(MODEL) $(WEB_BUILD) bench-deps
	$(PY) -m benchmarks.run

# hostile input and faults under ordinary load (also part of `make bench`); writes benchmarks/RESULTS.md
abuse: $(MODEL) $(WEB_BUILD) bench-deps
	$(PY) -m benchmarks.run --parts abuse

# deploy/ built and run with podman + podman-compose (no Docker engine or registry needed; root; installs them
# when missing), 2 Rasa replicas, the chat page (WebSocket and polling), Messenger, Zalo and REST driven through
# nginx, every reply counted; takes the stack down at the end. Not part of `make test` (several minutes).
# Needs models/senmart.tar.gz (make train) and the project's Python (SMOKE_PYTHON, default .venv/bin/python).
deploy-smoke:
	deploy/smoke/run.sh

clean:
	rm -rf models var/results .pytest_cache
