# Clarity: two commands. `make run` installs everything and opens the studio on a sample;
# `make test` installs the same (plus test tools), type-checks and runs the whole suite. Both are
# idempotent: a second run skips what is already there.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get
TESSDATA_ENG := $(firstword $(wildcard /usr/share/tesseract-ocr/*/tessdata/eng.traineddata))

.PHONY: run test lint format bench bench-deps sysdeps sysdeps-test clean

run: sysdeps $(VENV)/.runtime $(VENV)/.installed
	$(BIN)/streamlit run app.py --server.port $(PORT)

test: sysdeps sysdeps-test $(VENV)/.dev $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m mypy

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: sysdeps $(VENV)/.dev
	$(BIN)/python bench/ocr_engines.py

# Tools for generating held-out evaluation sets (scripts/make_devsets.py); not used by the tests.
# augraphy is installed without dependencies: it declares opencv-python, whose cv2 would
# replace opencv-python-headless's (see requirements-bench.txt).
bench-deps: sysdeps $(VENV)/.bench

$(VENV)/.bench: requirements.txt requirements-bench.txt requirements-bench-nodeps.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements-bench.txt
	$(BIN)/pip install -q --no-deps -r requirements-bench-nodeps.txt
	touch $@

# Tesseract and its English data from the OS packages, and what OCRmyPDF runs besides
# (Ghostscript; poppler-utils for pdftotext) (apt-get update only when installing).
sysdeps:
	@if command -v tesseract >/dev/null && [ -n "$(TESSDATA_ENG)" ]; then :; else \
		echo "Installing Tesseract (tesseract-ocr, tesseract-ocr-eng)..."; \
		$(APT) update -qq && $(APT) install -y -qq tesseract-ocr tesseract-ocr-eng; fi
	@if command -v gs >/dev/null && command -v pdftotext >/dev/null; then :; else \
		echo "Installing Ghostscript and poppler-utils for OCRmyPDF..."; \
		$(APT) update -qq && $(APT) install -y -qq ghostscript poppler-utils; fi

# Debian's Chromium for the end-to-end browser tests (Playwright drives /usr/bin/chromium), and
# the DejaVu fonts some tests draw text with (symbols such as the pound sign).
sysdeps-test:
	@if [ -x /usr/bin/chromium ] && [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then :; else \
		echo "Installing Chromium and the DejaVu fonts for the tests..."; \
		$(APT) update -qq && $(APT) install -y -qq chromium fonts-dejavu-core; fi

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(VENV)/.runtime $@

# Clarity itself, editable: the `clarity` command and the OCRmyPDF plugin entry point.
$(VENV)/.installed: pyproject.toml setup.py requirements.txt | $(VENV)/.runtime
	$(BIN)/pip install -q --no-deps -e .
	touch $@

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
