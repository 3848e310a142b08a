# Every target bootstraps what it needs: a fresh clone needs only Python 3.11+,
# Node 20+ and make. The venv is rebuilt when pyproject.toml changes, the CDK
# CLI when package.json changes.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ENV ?= dev
MATURITY ?=
CDK_OUTDIR ?= cdk.out

# No telemetry, notices or version checks: synthesis works with no network.
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export PYTHONDONTWRITEBYTECODE := 1

MATURITY_ARG := $(if $(MATURITY),-c maturity=$(MATURITY),)

.PHONY: help install java demo demo-faults test lint format synth synth-pipeline diff plan stages bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# The editable install maps each top-level package (here, lambdas/ and sagemaker/): a new one needs a reinstall.
$(BIN)/.installed: pyproject.toml $(wildcard lambdas/*/__init__.py sagemaker/*/__init__.py */__init__.py)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# Local Spark (the Glue 5.0 job's test tier, `omni mdm dedupe --engine spark`) needs a Java runtime:
# Glue 5.0 runs Java 17, which Debian's package brings where none is installed.
java: ## make sure a Java runtime is on PATH for local Spark (installs OpenJDK 17 with apt where missing)
	@command -v java >/dev/null 2>&1 || { \
		command -v apt-get >/dev/null 2>&1 || { echo "local Spark needs Java 17: install a JDK or JRE 17 and put java on PATH" >&2; exit 1; }; \
		echo "installing openjdk-17-jre-headless for local Spark"; \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		$(if $(filter 0,$(shell id -u)),,sudo) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; }

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(BIN)/.installed node_modules/.installed java ## create .venv and node_modules (automatic)

demo: $(BIN)/.installed ## run the platform offline: synthetic customers through the real handlers in moto, report in build/sandbox
	$(BIN)/omni sandbox run

# A few percent of every fault kind, checked against a fault-free run of the same seed (docs/platform-engineer.md).
FAULTS ?= dynamodb-throttle=0.03,eventbridge-partial=0.03,sagemaker-error=0.05,sagemaker-timeout=0.02,s3-read-error=0.25,handler-crash=0.15,kinesis-redelivery=0.25,seed=7
demo-faults: $(BIN)/.installed ## the demo under injected faults (FAULTS=spec), checked against a fault-free run of the seed
	$(BIN)/omni sandbox run --faults '$(FAULTS)'

test: $(BIN)/.installed java lint ## all tests (unit, infra gates) and the linters
	$(BIN)/python -m pytest

lint: $(BIN)/.installed ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(BIN)/.installed ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

synth: $(BIN)/.installed node_modules/.installed ## synthesize ENV at MATURITY into cdk.out/ (no credentials needed)
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk synth --quiet --no-notices --no-version-reporting \
		--output $(CDK_OUTDIR) -c env=$(ENV) $(MATURITY_ARG)
	$(BIN)/omni assembly $(CDK_OUTDIR)

synth-pipeline: $(BIN)/.installed node_modules/.installed ## synthesize the delivery pipeline (omni:pipeline in cdk.json) into cdk.out/
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk synth --quiet --no-notices --no-version-reporting \
		--app '$(BIN)/python pipeline_app.py' --output $(CDK_OUTDIR)

diff: $(BIN)/.installed node_modules/.installed ## cdk diff ENV at MATURITY against the deployed stacks (needs credentials)
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk diff --all --no-notices -c env=$(ENV) $(MATURITY_ARG)

plan: $(BIN)/.installed ## omni plan: ENV's deployed stacks against MATURITY (default: its own), safe or not (needs credentials)
	$(BIN)/omni plan --env $(ENV) $(if $(MATURITY),--to-stage $(MATURITY),)

stages: $(BIN)/.installed ## print the maturity table and the stacks of each stage for ENV
	$(BIN)/omni stages --env $(ENV)

bench: $(BIN)/.installed java ## run the benchmarks (figures for the closing notes)
	$(BIN)/python -m pytest benchmarks -p no:randomly --benchmark-only --benchmark-columns=min,median,mean,max -q
	PYTHONPATH=.:lambdas $(BIN)/python -m benchmarks.seamless.bench_state_fanout
	PYTHONPATH=.:lambdas $(BIN)/python -m benchmarks.mdm.bench_scale

clean: ## remove generated output (keeps .venv and node_modules)
	rm -rf $(CDK_OUTDIR) build .pytest_cache .mypy_cache .ruff_cache .hypothesis .benchmarks
