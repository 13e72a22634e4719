# rnce-bag: the README's two commands are `make demo` and `make test`.
# Both run `make setup` first, which is idempotent: it rebuilds .venv only when
# pyproject.toml changed, and installs system tools only when they are missing.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TORCH  := torch==2.13.0
ANTSPY := antspyx==0.6.3
ANTS_STAMP := $(VENV)/.installed-antspyx-0.6.3
SSF_VENV  := $(VENV)/tools/gwas-ssf
SSF_STAMP := $(SSF_VENV)/.installed
# command:Debian package; chromium and its driver are for the report's browser test
SYSTEM_TOOLS := plink2:plink2 gemma:gemma bolt:bolt-lmm chromium:chromium chromedriver:chromium-driver
PYTEST_ARGS ?=

.PHONY: setup system-tools demo test test-all lint bench clean help screenshot

help:
	@echo "make setup  - create .venv, install torch (CPU), the project, plink2/gemma/bolt/chromium"
	@echo "make demo   - run the main job on the embedded synthetic cohort"
	@echo "make test   - run the test suite (pytest -n 2)"
	@echo "make test-all - the suite plus the extended Hail checks (about 15 more minutes)"
	@echo "make lint   - ruff + import-linter"
	@echo "make bench  - run the benchmarks in benchmarks/"
	@echo "make screenshot - the README's report screenshot from a finished make demo"

setup: $(STAMP) $(ANTS_STAMP) $(SSF_STAMP) system-tools
	@$(VENV)/bin/rnce-bag doctor --no-spark || true
	@echo "setup done: '.venv/bin/rnce-bag doctor' also starts Hail's local Spark to check it"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# torch first and pinned: the CPU build on this machine's disk; a looser
	@# requirement would download a multi-GB CUDA build.
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# ANTsPy, for 'rnce-bag register'. Its wheel pins numpy < 2.4 and scipy < 1.16, older than
# the versions hail and this project are tested with; its compiled module runs on them
# (tests/rnce_bag/imaging/test_registration.py), so it goes in without its pins. A stamp
# of its own, so an existing .venv gets it too.
$(ANTS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --no-deps $(ANTSPY)
	@touch $(ANTS_STAMP)

# The GWAS Catalog's own validator of GWAS-SSF files (the suite runs it on the GWAS output).
# Its pins (pandas 1.5, pydantic 1, typer 0.7) clash with the project's, so it gets a venv of
# its own; numpy < 2 and click < 8.2 are what those pins need but do not declare.
$(SSF_STAMP):
	@test -x $(SSF_VENV)/bin/python || $(PYTHON) -m venv $(SSF_VENV)
	$(SSF_VENV)/bin/python -m pip install --quiet gwas-sumstats-tools==1.0.25 "numpy<2" \
	  "click<8.2" six
	@touch $(SSF_STAMP)

system-tools:
	@if command -v java >/dev/null 2>&1; then \
	  echo "java: $$(java -version 2>&1 | head -n 1)"; \
	else \
	  echo "java: MISSING - Hail needs a JRE: sudo apt-get install openjdk-17-jre-headless"; \
	fi
	@missing=""; for t in $(SYSTEM_TOOLS); do command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; done; \
	if [ -z "$$missing" ]; then \
	  echo "system tools present: $(foreach t,$(SYSTEM_TOOLS),$(firstword $(subst :, ,$(t))))"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing$$missing with apt-get"; \
	  ( apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null ) \
	    || for p in $$missing; do \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$p >/dev/null 2>&1 \
	        || echo "could not install $$p: its backend stays disabled"; \
	    done; \
	else \
	  echo "missing:$$missing - backends disabled (--engine plink2, GEMMA cross-checks, the"; \
	  echo "  report's browser test)."; \
	  echo "  install with: sudo apt-get update && sudo apt-get install$$missing"; \
	fi

DEMO_OUT ?= reports/output/demo
DEMO_PRESET ?= demo
RB := $(VENV)/bin/rnce-bag

# `rnce-bag demo` runs the shipped study rnce_bag/configs/study/demo.yaml (simulate 3,200
# subjects, then every stage, cached and resumable; about 80 minutes on 2 cores). That
# study picks the plink2 GWAS engine for speed (--engine hail gives the same numbers) and
# turns the GRM relatedness cut-off off (the simulator's stretched LD makes unrelated
# pairs exceed 0.025).
demo: setup
	$(RB) demo --preset $(DEMO_PRESET) --out $(DEMO_OUT)

# the README's screenshot, taken by the headless-Chromium path the suite's browser test uses
# (tests/browser.py), of the report of a finished `make demo`
screenshot: setup
	$(PY) -m tests.browser $(DEMO_OUT) reports/screenshots/demo-report.png

test: setup
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

# the default suite plus the extended Hail checks (a standalone Spark cluster, per-chromosome
# files, two runs in one process): about 15 more minutes on 2 cores
test-all: setup
	RNCE_BAG_EXTENDED=1 $(PY) -m pytest -n 2 $(PYTEST_ARGS)

lint: setup
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
