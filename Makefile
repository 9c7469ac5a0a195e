.PHONY: demo test test-dbt112 lint bench
demo:  ## set up and run the demo project on embedded databases
	bash scripts/demo.sh
test:  ## set up everything the tests need and run the whole suite
	bash scripts/test.sh
test-dbt112:  ## the dbt-facing tests on dbt-core 1.12, in .venv-dbt112
	bash scripts/test-dbt112.sh
lint:
	.venv/bin/ruff check src tests bench && .venv/bin/ruff format --check src tests bench && .venv/bin/mypy src/dvt
bench:
	.venv/bin/python bench/overhead.py
