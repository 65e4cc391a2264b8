# DNS-validated ACM certificate custom resource: developer tasks.
# Every target works from a fresh clone: the virtualenvs are created on demand.
#
#   .venv      development/test tools (requirements-dev.txt)
#   .sam-venv  AWS SAM CLI, kept apart because it pins its own boto3 and cfn-lint
#   .checkov-venv  checkov (requirements-checkov.txt), kept apart because it pins an older boto3

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV          := .venv
VENV_STAMP    := $(VENV)/.requirements-dev.stamp
SAM_VENV      := .sam-venv
SAM_CLI_VERSION ?= 1.170.0
SAM_STAMP     := $(SAM_VENV)/.aws-sam-cli-$(SAM_CLI_VERSION).stamp
SAM           := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
CHECKOV_VENV  := .checkov-venv
CHECKOV_STAMP := $(CHECKOV_VENV)/.requirements-checkov.stamp
# --skip-download: no call to the vendor's platform (guidelines, severities); the checks ship
# with the package.
CHECKOV       := $(CHECKOV_VENV)/bin/checkov --framework cloudformation --compact --quiet \
	--skip-download
PIP_INSTALL   := -m pip install --disable-pip-version-check --quiet
PYTEST_ARGS   ?=
BENCH_ARGS    ?=

# The Lambda runtime is python3.13. pyenv on the development machines enables only 3.11 by
# default, so ask it for 3.13.0 explicitly; any python3.13 on PATH works too. PY313 is the real
# interpreter path (not a pyenv shim), so its directory can be put on PATH for `sam build`.
PY313  := $(shell PYENV_VERSION=3.13.0 python3.13 -c 'import sys; print(sys.executable)' 2>/dev/null)
VENV_PYTHON ?= $(or $(PY313),$(shell python3 -c 'import sys; print(sys.executable)' 2>/dev/null))

CFN_TEMPLATES := template.yaml $(wildcard examples/*.yaml)

.PHONY: lock help venv test test-serial bench reliability crash-points lint format demo build build-check validate \
	deploy plain-template plain-code clean distclean

help: ## List the targets
	@echo "Usage: make <target>"
	@echo
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'
	@echo
	@echo "Python for the virtualenvs: $(or $(VENV_PYTHON),NOT FOUND)"

# --- virtualenvs ------------------------------------------------------------------------------

venv: $(VENV_STAMP) ## Create .venv (python3.13 if available) and install requirements-dev.txt

# Re-runs whenever requirements-dev.txt is newer than the stamp.
$(VENV_STAMP): requirements-dev.txt
	@test -n "$(VENV_PYTHON)" || { echo "error: no python3.13 or python3 found" >&2; exit 1; }
	@if [ ! -x "$(VENV)/bin/python" ]; then \
		echo "+ $(VENV_PYTHON) -m venv $(VENV)"; \
		"$(VENV_PYTHON)" -m venv "$(VENV)"; \
	fi
	@$(VENV)/bin/python -c 'import sys; sys.version_info >= (3, 13) or print("warning: $(VENV) is not Python 3.13 (the Lambda runtime)")'
	$(VENV)/bin/python $(PIP_INSTALL) -r requirements-dev.txt
	@touch $@

$(SAM_STAMP):
	@test -n "$(VENV_PYTHON)" || { echo "error: no python3.13 or python3 found" >&2; exit 1; }
	@if [ ! -x "$(SAM_VENV)/bin/python" ]; then \
		echo "+ $(VENV_PYTHON) -m venv $(SAM_VENV)"; \
		"$(VENV_PYTHON)" -m venv "$(SAM_VENV)"; \
	fi
	$(SAM_VENV)/bin/python $(PIP_INSTALL) "aws-sam-cli==$(SAM_CLI_VERSION)"
	@rm -f $(SAM_VENV)/.aws-sam-cli-*.stamp
	@touch $@

# checkov pins boto3 exactly: its own virtualenv, re-made when requirements-checkov.txt changes.
$(CHECKOV_STAMP): requirements-checkov.txt
	@test -n "$(VENV_PYTHON)" || { echo "error: no python3.13 or python3 found" >&2; exit 1; }
	@if [ ! -x "$(CHECKOV_VENV)/bin/python" ]; then \
		echo "+ $(VENV_PYTHON) -m venv $(CHECKOV_VENV)"; \
		"$(VENV_PYTHON)" -m venv "$(CHECKOV_VENV)"; \
	fi
	$(CHECKOV_VENV)/bin/python $(PIP_INSTALL) -r requirements-checkov.txt
	@touch $@

# --- checks -----------------------------------------------------------------------------------

# Two workers (pytest-xdist): the machines have 2 cores, and most tests wait on sockets or
# timers. The fault run stays on one worker (--dist=loadgroup); the figures table still prints.
TEST_WORKERS ?= 2

test: venv ## Run the test suite on TEST_WORKERS workers (PYTEST_ARGS="..." passes options)
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-serial: venv ## Run the test suite in one process
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# Performance figures, never timed assertions (benchmarks/README.md). Takes ~4 minutes.
bench: venv ## Every benchmark: one table and benchmarks/results.json (fails when a count misses)
	$(VENV)/bin/python -m benchmarks.bench $(BENCH_ARGS)

# `make test` tries a deterministic sample of the crash points (test_crash_points.py); these two
# try every point of every scenario.
reliability: venv ## Reliability figures: bad inputs, faults, every crash point (one table; fails on a miss)
	CRASH_POINTS=all $(VENV)/bin/python -m pytest tests/reliability -q $(PYTEST_ARGS)

crash-points: venv ## Kill the handler before and after every AWS call of every scenario (all points)
	CRASH_POINTS=all $(VENV)/bin/python -m pytest tests/reliability/test_crash_points.py -q $(PYTEST_ARGS)

# Runs every linter even when an earlier one fails, then fails if any did.
# checkov scans what CloudFormation deploys: the plain translation of template.yaml (SAM copies
# each function's Metadata, with its checkov skips, onto the AWS::Lambda::Function) and the
# examples. Every skip names its check and says why it does not apply (README "Security").
lint: venv $(CHECKOV_STAMP) ## ruff, mypy, cfn-lint, checkov (plain template, examples), IAM names
	@rc=0; \
	echo "+ ruff check ."; $(VENV)/bin/ruff check . || rc=1; \
	echo "+ ruff format --check ."; $(VENV)/bin/ruff format --check . || rc=1; \
	echo "+ mypy"; $(VENV)/bin/mypy || rc=1; \
	echo "+ cfn-lint $(CFN_TEMPLATES)"; $(VENV)/bin/cfn-lint -- $(CFN_TEMPLATES) || rc=1; \
	echo "+ plain template"; \
		$(VENV)/bin/python -m tools.plain_template --output $(PLAIN_DIR)/template.json || rc=1; \
	echo "+ checkov $(PLAIN_DIR)/template.json $(wildcard examples/*.yaml)"; \
		$(CHECKOV) $(addprefix -f ,$(PLAIN_DIR)/template.json $(wildcard examples/*.yaml)) \
		|| rc=1; \
	echo "+ iam-check"; $(VENV)/bin/python -m tools.iam_check || rc=1; \
	if [ $$rc -ne 0 ]; then echo "lint: FAILED" >&2; fi; \
	exit $$rc

format: venv ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

demo: venv ## Run the local demo (local/demo.py) against mocked AWS
	PYTHONPATH=handler:. $(VENV)/bin/python -m local.demo

# --- runtime dependencies -------------------------------------------------------------------

# handler/requirements.txt: requirements-runtime.in compiled with every dependency pinned and the
# sha256 of each file PyPI serves for it (wheels and sdist), so that sam build's pip, which turns
# on --require-hashes for a file whose lines carry hashes, installs nothing else. Every bundled
# package is pure Python (py3-none-any): the same hashes serve arm64 and x86_64. PyPI only
# (PIP_CONFIG_FILE=/dev/null): no local mirror or find-links may add a file of its own.
lock: venv ## Recompile handler/requirements.txt (pins + hashes) from requirements-runtime.in
	env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="make lock" \
		$(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url \
		--output-file handler/requirements.txt requirements-runtime.in

# --- SAM --------------------------------------------------------------------------------------

# sam build without a container needs the runtime's interpreter (python3.13) on PATH. Then the
# SBOM: cyclonedx-py reads the distributions on the path of a python3.13 whose path is the built
# function folder and the standard library only (-S: no site-packages), as Lambda's /var/task.
SBOM := build/sbom.json

build: $(SAM_STAMP) venv ## sam build into .aws-sam/build, and its CycloneDX SBOM build/sbom.json
	@test -n "$(PY313)" || { echo "error: sam build needs python3.13 (the Lambda runtime)" >&2; exit 1; }
	PATH="$(dir $(PY313)):$$PATH" $(SAM) build
	@mkdir -p $(dir $(SBOM))
	env -u PYTHONHOME PYTHONPATH="$(CURDIR)/.aws-sam/build/CertificateFunction" \
		$(VENV)/bin/cyclonedx-py environment -S --pyproject pyproject.toml \
		--output-reproducible --sv 1.6 --of JSON -o $(SBOM) "$(PY313)"
	@echo "wrote $(SBOM)"

# The built artifact is what we test (tools/check_build.py): no test/dev package in it, the
# SBOM lists exactly its distributions under allowed licences (licences-allowed.txt),
# handler/requirements.txt carries hashes, and the built app.lambda_handler, run in a bare interpreter with only the build and boto3 on its path,
# answers a sample event from events/ as CloudFormation expects. Part of .ci/run.
build-check: build venv ## sam build, then check it against its SBOM and invoke it in a bare python3.13
	$(VENV)/bin/python -m tools.check_build --build-dir .aws-sam/build/CertificateFunction
	$(VENV)/bin/python -m tools.check_build --build-dir .aws-sam/build/CertificateFailureFunction \
		--destination

validate: $(SAM_STAMP) ## sam validate --lint (no credentials needed)
	AWS_DEFAULT_REGION="$${AWS_DEFAULT_REGION:-$${AWS_REGION:-us-east-1}}" $(SAM) validate --lint

# The stack's name is the install name contract (README "Deploy it once"): it exports
# "<name>-ServiceToken" and the examples import "dns-certificate-ServiceToken". Given here, it is
# the name `sam deploy --guided` offers (otherwise "sam-app"). STACK_NAME=... for another.
STACK_NAME ?= dns-certificate

deploy: build ## sam deploy --guided as stack STACK_NAME (default dns-certificate; needs AWS credentials)
	$(SAM) deploy --guided --stack-name $(STACK_NAME) --capabilities CAPABILITY_IAM

# --- plain CloudFormation (service-managed StackSets refuse transforms) ----------------------

PLAIN_DIR := build/plain

plain-template: venv ## template.yaml translated offline to build/plain/template.json (code from S3)
	$(VENV)/bin/python -m tools.plain_template --output $(PLAIN_DIR)/template.json

plain-code: build ## Zip sam build's function folder into build/plain/code.zip (upload to CodeS3Key)
	@mkdir -p $(PLAIN_DIR)
	rm -f $(PLAIN_DIR)/code.zip
	cd .aws-sam/build/CertificateFunction && \
		"$(CURDIR)/$(VENV)/bin/python" -c 'import shutil; shutil.make_archive("$(CURDIR)/$(PLAIN_DIR)/code", "zip", ".")'
	@echo "wrote $(PLAIN_DIR)/code.zip"

# --- housekeeping -----------------------------------------------------------------------------

clean: ## Remove build output and caches (keeps the virtualenvs)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -path ./$(SAM_VENV) -prune -o \
		\( -name __pycache__ -o -name '*.egg-info' \) -type d -print0 | xargs -0 rm -rf

distclean: clean ## clean, and remove .venv, .sam-venv and .checkov-venv too
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV)
