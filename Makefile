# One command each: `make demo` (set up + run the whole pipeline), `make test` (set up + all checks).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= all

.PHONY: setup demo test lint bench clean wheelhouse cluster-check

$(BIN)/snakemake: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/snakemake

# the benchmarks' reference packages (torchmetrics, pytorch-msssim) on top of the dev set-up
$(VENV)/.bench: $(BIN)/snakemake
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

demo: setup
	$(BIN)/snakemake --cores $(CORES) results/report.html

lint: setup
	$(BIN)/ruff check src tests workflow bench envs
	$(BIN)/ruff format --check src tests workflow/scripts bench envs
	$(BIN)/snakemake --lint

# two workers by default (CI's two cores); the files' order is in tests/conftest.py
TEST_WORKERS ?= 2
test: lint
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations 15

# on the login node, before submitting: every job against the partitions sinfo reports
CONFIG ?= config/thesis.yaml
cluster-check: setup
	$(BIN)/mame cluster-check --profile profiles/slurm --configfile $(CONFIG)

bench: $(VENV)/.bench
	$(BIN)/python bench/bench_convert.py
	$(BIN)/python bench/bench_dryrun.py
	$(BIN)/python bench/bench_dryrun.py --profile profiles/slurm --out bench/results/dryrun_slurm.json
	$(BIN)/python bench/bench_shard_memory.py --sizes 1 16 64 500
	$(BIN)/python bench/bench_msssim.py
	test -d results/models/fusion/pipeline && $(BIN)/python bench/bench_fidelity.py || echo "run make demo first for bench_fidelity"

# every dependency except PyTorch as Linux x86-64 wheels for Python 3.10-3.12 (GPU nodes without internet)
wheelhouse: setup
	$(BIN)/python envs/wheelhouse.py --out wheelhouse --pythons $(or $(PYTHONS),3.10 3.11 3.12)

clean:
	rm -rf results logs benchmarks .snakemake
