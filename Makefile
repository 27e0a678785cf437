# Two commands: `make run` (the local stack on $PORT) and `make test` (lint, types, the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAGE ?= dev
STACK := sessions-marketplace-$(STAGE)
PORT ?= 8000
LOCAL_AWS_PORT ?= 8001
LOCAL_PAYMENTS_PORT ?= 8002
# The web app's own origin (make run serves web/ there).
WEB_PORT ?= 3000
# The browser tests drive Debian's Chromium through Playwright (which cannot download its own browser here).
CHROMIUM ?= /usr/bin/chromium
export PORT LOCAL_AWS_PORT LOCAL_PAYMENTS_PORT WEB_PORT CHROMIUM
# `make run` and `make test` keep Python's bytecode, in the virtualenv rather than beside the sources, even where
# the environment says PYTHONDONTWRITEBYTECODE (this machine's and CI's do): without it each process compiled every
# module it imported, every time (the tests start some 150 Python processes; checkov alone compiled 2.4 s of source
# a run). Not for make bench: its cold starts are measured as they were.
run test: export PYTHONPYCACHEPREFIX := $(CURDIR)/$(VENV)/pycache
run test: export PYTHONDONTWRITEBYTECODE :=

.PHONY: run test lint types chromium checkov test-packages screenshots bench mutants package deploy destroy clean

# Running needs the runtime and the local stack only (requirements-run.txt); the tests and tools add the rest.
# uv (from PyPI, into the virtualenv) installs the same pins as pip would, several times faster: it downloads in
# parallel and does not compile what is never imported.
UV_VERSION := 0.13.9
UV := $(BIN)/uv pip install --quiet
$(BIN)/.installed-run: requirements.txt requirements-run.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV) --python $(BIN)/python -r requirements-run.txt
	touch $@

$(BIN)/.installed: $(BIN)/.installed-run requirements-dev.txt
	$(UV) --python $(BIN)/python -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed-run
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

# One process per core, each test file whole on one (its module and session fixtures, local stacks included),
# handed out in collection order (tests/conftest.py puts the long folders first; xdist would reorder by size).
# One more worker than cores was tried on 2 cores: 483 s once, 615 s the next time, and at 4 workers a
# concurrency test failed under the load; the local stacks' timing matters more than the seconds.
TEST_WORKERS ?= auto
# lint, types and the test packages (CPU) overlap checkov's install (mostly downloads) and Chromium's. The 25
# slowest tests are listed at the end: where the suite's minutes go (issue 22's 8-minute clean-clone target).
test: $(BIN)/.installed
	$(MAKE) --no-print-directory -j5 --output-sync=target test-packages lint types chromium checkov
	TEST_PACKAGES=$(CURDIR)/$(TEST_PACKAGES) \
		$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25

# Both stages packaged for tests/deploy, beside lint and types (whose CPU leaves room while checkov installs): in
# the tests, one worker packed while the other waited for it. The first stage builds chalice's layer of
# dependencies, cached in .chalice/deployments/, which the second reuses. The deploy tests' fixture takes these
# when make names them (TEST_PACKAGES); pytest alone packs its own.
TEST_PACKAGES := build/test-packages
test-packages: $(BIN)/.installed
	rm -rf $(TEST_PACKAGES)
	$(BIN)/python -m deploy.package dev $(TEST_PACKAGES)/dev > /dev/null
	$(BIN)/python -m deploy.package prod $(TEST_PACKAGES)/prod > /dev/null

# The pictures in the README and docs/ (docs/*.png), against a fresh local stack with the demo data.
screenshots: $(BIN)/.installed chromium
	$(BIN)/python -m tests.browser.screenshots

# checkov (tests/deploy/test_checkov.py scans both stages' templates) pins boto3, botocore, networkx and packaging
# below the project's: it lives in a virtualenv of its own.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed: requirements-checkov.txt tests/deploy/checkov_parse_tables.py $(BIN)/.installed-run
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv --without-pip $(CHECKOV_VENV)
	$(UV) --python $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt
	$(CHECKOV_VENV)/bin/python tests/deploy/checkov_parse_tables.py
	touch $@

checkov: $(CHECKOV_VENV)/.installed

# The original Django backend, rebuilt for side-by-side cold starts, in a virtualenv of its own.
ORIGINAL_VENV := .bench/original-venv
$(ORIGINAL_VENV)/.installed: bench/original/requirements.txt
	test -x $(ORIGINAL_VENV)/bin/python || $(PYTHON) -m venv $(ORIGINAL_VENV)
	$(ORIGINAL_VENV)/bin/python -m pip install --quiet -r bench/original/requirements.txt
	touch $@

bench: $(BIN)/.installed $(ORIGINAL_VENV)/.installed
	$(BIN)/python -m bench

# Mutation testing of security/, services/ and persistence/bookings.py, killed by the unit and integration
# tests ([tool.mutmut] in pyproject.toml); not part of `make test`. Starts afresh, prints the score per module.
# MUTANTS='chalicelib.security.cursors.*' runs only the mutants whose names match (mutmut's patterns).
MUTANT_CHILDREN ?= 2
MUTANTS ?=
mutants: $(BIN)/.installed
	rm -rf mutants && mkdir -p build
	@start=$$(date +%s); \
	$(BIN)/mutmut run --max-children $(MUTANT_CHILDREN) $(MUTANTS) > build/mutants.log 2>&1 \
		|| { tail -c 3000 build/mutants.log; exit 1; }; \
	$(BIN)/python -m tests.support.mutation_score && echo "make mutants took $$(( $$(date +%s) - start )) s"

# `chalice package` output merged with deploy/template.py (tables, bucket, secret, IAM, gateway responses).
package: $(BIN)/.installed
	$(BIN)/python -m deploy.package $(STAGE)
	$(BIN)/cfn-lint build/$(STAGE)/sam.json

# Needs the AWS CLI, credentials, and an S3 bucket of yours for the deployment artifacts (the code and the
# template, under the stack's name). Deploys the stack with the web app's origin among the API's CORS origins,
# uploads web/ with its config.js as a new release and switches the site to it, prints the outputs and the web
# app's URL (deploy/publish.py). SITE_DOMAIN_NAME with SITE_CERTIFICATE_ARN: a domain of yours for the site.
deploy: package
	@test -n "$(ARTIFACT_BUCKET)" || { echo "set ARTIFACT_BUCKET=<an S3 bucket for deployment artifacts>"; exit 2; }
	aws cloudformation package --template-file build/$(STAGE)/sam.json --s3-bucket $(ARTIFACT_BUCKET) \
		--s3-prefix $(STACK) --output-template-file build/$(STAGE)/packaged.json
	$(BIN)/python -m deploy.publish deploy $(STAGE) --stack $(STACK) --template build/$(STAGE)/packaged.json \
		--artifact-bucket '$(ARTIFACT_BUCKET)' \
		$(if $(CORS_ALLOWED_ORIGINS),--cors-allowed-origins '$(CORS_ALLOWED_ORIGINS)') \
		$(if $(WEB_APP_URL),--web-app-url '$(WEB_APP_URL)') \
		$(if $(SITE_DOMAIN_NAME),--site-domain-name '$(SITE_DOMAIN_NAME)') \
		$(if $(SITE_CERTIFICATE_ARN),--site-certificate-arn '$(SITE_CERTIFICATE_ARN)')
	@echo "Payments, once per stage (docs/payments.md, Deployed stages): in Stripe's dashboard (Developers > Webhooks), add an endpoint"
	@echo "  at the StripeWebhookUrl output above for the events checkout.session.completed and checkout.session.expired"
	@echo "  (or: stripe webhook_endpoints create --url <StripeWebhookUrl> -d 'enabled_events[]=checkout.session.completed'"
	@echo "  -d 'enabled_events[]=checkout.session.expired'), then store both keys in the StripeSecretArn secret:"
	@echo "  aws secretsmanager put-secret-value --secret-id <StripeSecretArn> \\"
	@echo "    --secret-string '{\"secret_key\": \"sk_live_...\", \"webhook_secret\": \"whsec_...\"}'"

# The web app's bucket (every release) is emptied first: CloudFormation deletes only empty buckets. The
# artifacts under $(STACK)/ in ARTIFACT_BUCKET are yours to delete.
destroy: $(BIN)/.installed
	$(BIN)/python -m deploy.publish empty --stack $(STACK)
	aws cloudformation delete-stack --stack-name $(STACK)
	aws cloudformation wait stack-delete-complete --stack-name $(STACK)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .local build mutants .pytest_cache .mypy_cache .ruff_cache
