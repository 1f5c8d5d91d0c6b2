# The two commands of the README: `make run` and `make test`. Everything else is set up by them.
SHELL := /bin/bash
VENV := .venv/bin
MODEL := var/models/frontdesk-nlu.tar.gz
NLU_SOURCES := $(shell find nlu/data -name '*.yml' 2>/dev/null) nlu/config.yml nlu/text.py nlu/rasa_components.py

.PHONY: setup app rasa model browser run test lint typecheck clean

setup: app rasa model

app:
	@bash scripts/setup_app.sh

rasa:
	@bash scripts/setup_rasa.sh

# Debian chromium + the playwright package, for the console's browser tests.
browser: app
	@bash scripts/setup_browser.sh

# Rasa's own fingerprinting also skips retraining when data and config are unchanged.
model: $(MODEL)
$(MODEL): $(NLU_SOURCES) | app rasa
	$(VENV)/frontdesk nlu train

run: setup
	$(VENV)/frontdesk run

lint: app
	$(VENV)/ruff check bot nlu flows catalog territory tests bench migrations
	$(VENV)/ruff format --check bot nlu flows catalog territory tests bench

typecheck: app
	$(VENV)/mypy

# Integration and browser tests fail (instead of skipping) when their tools are missing.
test: setup browser lint typecheck
	FRONTDESK_REQUIRE_RASA=1 FRONTDESK_REQUIRE_BROWSER=1 $(VENV)/pytest

clean:
	rm -rf var .rasa .pytest_cache .mypy_cache .ruff_cache
