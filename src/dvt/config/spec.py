"""One profile output, as every part of DVT sees it (`config.targets` loads them)."""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TargetSpec:
    """One profile output. `options` is the rendered output without its secrets' meaning changed."""

    name: str
    type: str
    options: Mapping[str, Any] = field(repr=False, compare=False)

    @functools.cached_property
    def has_dbt_adapter(self) -> bool:
        return importlib.util.find_spec(f"dbt.adapters.{self.type}") is not None

    @functools.cached_property
    def source_only(self) -> bool:
        """No dbt adapter writes this type, but a connector of DVT reads it (DESIGN.md section
        4): `dvt/connectors/<type>.py`."""
        connector = importlib.util.find_spec(f"dvt.connectors.{self.type}")
        return not self.has_dbt_adapter and connector is not None
