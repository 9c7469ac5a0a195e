"""Per-database SQL of `dvt diff`: the normalisation of each column to canonical text, and the
row and bucket hashes built from it. One module per database type that hashes on its own
server (`postgres.py`, `duckdb.py`); a type without one (SQLite, MySQL) is read through its
DuckDB scanner and hashed by DuckDB."""

from __future__ import annotations

import importlib
import importlib.util

from dvt.diff.hashing.base import Hasher


def for_type(type_name: str) -> Hasher:
    """The hasher of an output type (DuckDB's for types read through a DuckDB scanner)."""
    module = f"{__name__}.{type_name}"
    if type_name == "base" or importlib.util.find_spec(module) is None:
        module = f"{__name__}.duckdb"
    hasher: Hasher = importlib.import_module(module).HASHER()
    return hasher
