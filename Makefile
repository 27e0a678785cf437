# Two commands: `make run` (the local stack on $PORT) and `make test` (lint, types, the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAGE ?= dev
STACK := sessions-marketplace-$(STAGE)
PORT ?= 8000
LOCAL_AWS_PORT ?= 8001
# The browser tests drive Debian's Chromium through Playwright (which cannot download its own browser here).
CHROMIUM ?= /usr/bin/chromium
export PORT LOCAL_AWS_PORT CHROMIUM

.PHONY: run test lint types chromium bench mutants package deploy destroy clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/python -m devstack

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

types: $(BIN)/.installed
	$(BIN)/mypy chalicelib

# Installs Debian's chromium when $(CHROMIUM) is missing (apt-get, as root or through sudo); else does nothing.
chromium:
	@tests/browser/install-chromium.sh

test: lint types chromium
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python -m bench

# Mutation testing of security/, services/ and persistence/bookings.py, killed by the unit and integration
# tests ([tool.mutmut] in pyproject.toml); not part of `make test`. Starts afresh, prints the score per module.
MUTANT_CHILDREN ?= 2
mutants: $(BIN)/.installed
	rm -rf mutants && mkdir -p build
	@start=$$(date +%s); \
	$(BIN)/mutmut run --max-children $(MUTANT_CHILDREN) > build/mutants.log 2>&1 \
		|| { tail -c 3000 build/mutants.log; exit 1; }; \
	$(BIN)/python -m tests.support.mutation_score && echo "make mutants took $$(( $$(date +%s) - start )) s"

# `chalice package` output merged with deploy/template.py (tables, bucket, secret, IAM, gateway responses).
package: $(BIN)/.installed
	$(BIN)/python -m deploy.package $(STAGE)
	$(BIN)/cfn-lint build/$(STAGE)/sam.json

# Needs the AWS CLI, credentials, and an S3 bucket of yours for the deployment artifacts.
deploy: package
	@test -n "$(ARTIFACT_BUCKET)" || { echo "set ARTIFACT_BUCKET=<an S3 bucket for deployment artifacts>"; exit 2; }
	aws cloudformation package --template-file build/$(STAGE)/sam.json --s3-bucket $(ARTIFACT_BUCKET) \
		--output-template-file build/$(STAGE)/packaged.json
	aws cloudformation deploy --template-file build/$(STAGE)/packaged.json --stack-name $(STACK) \
		--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND
	aws cloudformation describe-stacks --stack-name $(STACK) --query "Stacks[0].Outputs" --output table

destroy:
	aws cloudformation delete-stack --stack-name $(STACK)
	aws cloudformation wait stack-delete-complete --stack-name $(STACK)

clean:
	rm -rf $(VENV) .local build mutants .pytest_cache .mypy_cache .ruff_cache
