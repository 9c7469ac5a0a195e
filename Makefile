.PHONY: demo test test-dbt112 test-python lint bench
demo:  ## set up and run the demo project on embedded databases (PYTHON=, DVT_VENV= for another Python)
	bash scripts/demo.sh
test:  ## set up everything the tests need and run the whole suite
	bash scripts/test.sh
test-dbt112:  ## the dbt-facing tests on dbt-core 1.12, in .venv-dbt112
	bash scripts/test-dbt112.sh
test-python:  ## the demo and drop-in tests on Python 3.12 and 3.13, each in .venv-py3NN
	bash scripts/test-python.sh
lint:
	.venv/bin/ruff check src tests bench && .venv/bin/ruff format --check src tests bench && .venv/bin/mypy src/dvt
bench:
	.venv/bin/python bench/overhead.py
