# Two commands do everything: `make demo` and `make test`. Each prepares what it needs first.
.PHONY: setup demo test stress bench

setup:
	@./scripts/bootstrap.sh

demo: setup
	@.venv/bin/preuves demo --out demo-output

test: setup
	@.venv/bin/python -m pytest

stress: setup
	@.venv/bin/python -m pytest -m stress

bench: setup
	@for script in $$(grep -l '^if __name__ == "__main__":' bench/*.py); do .venv/bin/python "$$script" || exit 1; done
