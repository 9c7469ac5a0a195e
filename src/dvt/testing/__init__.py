"""Throwaway database servers for DVT's tests and benchmarks (real servers on 127.0.0.1)."""
