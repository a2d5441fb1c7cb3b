# foreigndesk — the two commands a newcomer needs: `make run` and `make test`.
# Everything else (the venv, the pins, the models) is set up by them.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
# A government desk phones nobody: onnxruntime's telemetry stays off everywhere.
export ORT_DISABLE_TELEMETRY := 1

.PHONY: run run-cluster test venv test-venv lock clean-desk

# The review browser test drives Debian's Chromium through Playwright (which cannot download
# browsers here). A file target: installed once, nothing to do when it is there.
CHROMIUM := /usr/bin/chromium
RADOSGW  := /usr/bin/radosgw
# The compose stack's TLS proxy configuration is checked with Debian's nginx (`nginx -t`).
NGINX    := /usr/sbin/nginx

# make run-cluster (and its end-to-end test) run Debian's PostgreSQL 15 and Redis as private,
# loopback-only servers started by the desk itself; installed once, like Chromium.
POSTGRES := /usr/lib/postgresql/15/bin/postgres
REDIS    := /usr/bin/redis-server

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The runtime venv, refreshed whenever the pins or the package metadata change.
$(VENV)/.runtime-installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.test-installed: requirements-test.txt $(VENV)/.runtime-installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

venv: $(VENV)/.runtime-installed
test-venv: $(VENV)/.test-installed

## make run: the desk on one machine (Airflow standalone, SQLite, local store in content/)
run: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/foreigndesk run

## make run-cluster: the production topology here — PostgreSQL, Redis, CeleryExecutor, two workers
run-cluster: venv $(POSTGRES) $(REDIS)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/foreigndesk run-cluster

$(POSTGRES):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15

$(REDIS):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server

# The package's service is not started (there is no init system here; the tests run `nginx -t` only).
$(NGINX):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The store contract suite and the S3 inbox tests also run against Ceph's radosgw, a real S3 that
# checks every signature (tests/radosgw.py starts a private one-node cluster on loopback).
# Installed once (~20 s), like Chromium; ceph-common and ceph-base come along as dependencies.
$(RADOSGW):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		radosgw ceph-mon ceph-osd

## make test: the whole suite, in the project's own venv
test: test-venv $(CHROMIUM) $(RADOSGW) $(POSTGRES) $(REDIS) $(NGINX)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

## make lock: re-resolve the direct dependencies and rewrite requirements.txt
lock:
	rm -rf /tmp/foreigndesk-lock && $(PYTHON) -m venv /tmp/foreigndesk-lock
	/tmp/foreigndesk-lock/bin/pip install --quiet apache-airflow==3.3.2 argos-translate-lt==1.12.1 apache-airflow-providers-celery apache-airflow-providers-fab 'celery<5.7' psycopg2-binary asyncpg boto3 requests markdown nh3 PyYAML onnx sacrebleu icalendar
	{ sed -n '1,/^# Regenerate/p' requirements.txt; /tmp/foreigndesk-lock/bin/pip freeze; } > requirements.txt.new && mv requirements.txt.new requirements.txt

## make clean-desk: forget the local desk's Airflow state (not the content store)
clean-desk:
	rm -rf .desk
