# qualkit: two commands.
#   make app    set up, build the demo study (first run only) and open the review app
#   make test   set up everything the tests need and run the whole suite (what CI runs)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
DEMO_DB ?= demo.qualkit.db
PORT   ?= 8501
PYTEST_ARGS ?=

.PHONY: app test demo bench lint format clean help

help:
	@echo "make app    set up, build the demo study and open the review app on http://localhost:$(PORT)"
	@echo "make test   set up and run the whole test suite (SQLite, PostgreSQL, MiniLM, Chromium, notebooks)"
	@echo "make bench  run the benchmarks and print their figures"
	@echo "make lint   ruff"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

# torch first, pinned to the CPU wheel: anything unpinned would pull a multi-GB CUDA build.
# BERTopic with --no-deps: it declares sentence-transformers (and so torch) as a hard requirement;
# its real runtime needs come from the `topics` extra.
$(VENV)/.stamp-app: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[app,embeddings,onnx,static,topics,postgres]"
	$(PIP) install --quiet --no-deps bertopic==0.17.4
	touch $@

$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-app
	$(PIP) install --quiet -e ".[app,embeddings,onnx,static,topics,postgres,dev]"
	touch $@

demo: $(VENV)/.stamp-app
	$(BIN)/qualkit demo $(DEMO_DB)

app: demo
	QUALKIT_DATABASE_URL=$(DEMO_DB) $(BIN)/streamlit run app.py --server.port $(PORT)

test: $(VENV)/.stamp-test
	scripts/ensure-system-deps.sh
	QUALKIT_REQUIRE_POSTGRES=1 QUALKIT_REQUIRE_BROWSER=1 QUALKIT_REQUIRE_EMBEDDINGS=1 QUALKIT_REQUIRE_BERTOPIC=1 \
		$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: $(VENV)/.stamp-test
	$(BIN)/python -m bench

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check qualkit tests bench app.py

format: $(VENV)/.stamp-test
	$(BIN)/ruff format qualkit tests bench app.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
