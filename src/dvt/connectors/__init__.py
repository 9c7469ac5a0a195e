"""Connectors: how DVT reads from and writes to each type of database.

One module per database type behind `connectors.base.Connector`, found by the type's name
(`type: sqlite` in a profile is `dvt/connectors/sqlite.py`, whose `CONNECTOR` is the class).
Adding a database is one module here. This package imports nothing heavy itself, so asking
whether a type has a connector costs nothing at start-up.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from typing import TYPE_CHECKING

from dvt import dialects
from dvt.exceptions import TargetUnavailableError

if TYPE_CHECKING:
    from dvt.config.spec import TargetSpec
    from dvt.connectors.base import Connector

#: Modules of this package that are not a database's.
_SHARED = frozenset({"base", "scanned", "standalone", "postgres_copy"})


def exists(type_name: str) -> bool:
    """Whether DVT has a connector for this output type (without importing it)."""
    return (
        type_name not in _SHARED and importlib.util.find_spec(f"{__name__}.{type_name}") is not None
    )


def types() -> list[str]:
    """Every output type DVT has a connector for."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name not in _SHARED)


def for_type(type_name: str, target: str | None = None) -> type[Connector]:
    """The connector class of an output type (`target` names the output in the error)."""
    if not exists(type_name):
        named = f"Target {target!r} is of type" if target else "Type"
        raise TargetUnavailableError(
            f"{named} {type_name!r}, which DVT cannot federate yet "
            f"(supported: {', '.join(types())})."
        )
    module = importlib.import_module(f"{__name__}.{type_name}")
    connector: type[Connector] = module.CONNECTOR
    dialects.load(connector.dialect)
    return connector


def for_target(spec: TargetSpec) -> type[Connector]:
    return for_type(spec.type, spec.name)
