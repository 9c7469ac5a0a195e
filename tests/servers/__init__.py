"""Throwaway database servers for DVT's tests and benchmarks (real servers on 127.0.0.1).

They live beside the tests, not in the installed package: pytest imports them as `tests.servers`
(the repository root is on its path) and the benchmarks through `bench/repository.py`.
"""
