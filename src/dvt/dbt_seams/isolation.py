"""Adapter classes that keep process-wide state get a per-target subclass.

dbt-duckdb keeps one database environment per process in class attributes of its connection
manager (`_ENV`, `_LOCK`) and replaces it whenever credentials change, so two DuckDB targets
used by one invocation would close each other's database. Each non-default target of such a
type gets a subclass with its own environment.
"""

from __future__ import annotations

import threading
from typing import Any


def isolated_adapter_class(adapter_cls: type[Any], target: str) -> type[Any]:
    """`adapter_cls`, or a subclass whose connection manager keeps its own environment."""
    manager = adapter_cls.ConnectionManager
    if "_ENV" not in vars(manager):
        return adapter_cls
    own_manager: Any = type(
        f"{manager.__name__}_{target}", (manager,), {"_ENV": None, "_LOCK": threading.RLock()}
    )
    members: dict[str, Any] = {"ConnectionManager": own_manager}
    if hasattr(adapter_cls, "get_binding_char"):
        # dbt-duckdb reads the binding character from the base class's environment.
        members["get_binding_char"] = lambda self: own_manager.env().get_binding_char()
    if hasattr(adapter_cls, "submit_python_job"):
        members["submit_python_job"] = _python_job_in(own_manager)
    return type(f"{adapter_cls.__name__}_{target}", (adapter_cls,), members)


def _python_job_in(manager: Any) -> Any:
    """dbt-duckdb's `submit_python_job`, run in `manager`'s environment: dbt-duckdb's own
    asks the base class's (none when the default target is not DuckDB, another target's
    database when it is)."""

    def submit_python_job(self: Any, parsed_model: dict[str, Any], compiled_code: str) -> Any:
        connection = self.connections.get_if_exists() or self.connections.get_thread_connection()
        env = manager.env()
        resolve_flight = getattr(self, "_resolve_flight_name", None)  # dbt-duckdb 1.10+
        if resolve_flight is not None:
            parsed_model = resolve_flight(env, parsed_model)
        return env.submit_python_job(connection.handle, parsed_model, compiled_code)

    return submit_python_job


def release(adapter: Any) -> None:
    """Drop a per-target environment (dbt only closes the connections that use it)."""
    manager = type(adapter.connections)
    if "_ENV" in vars(manager) and hasattr(manager, "close_all_connections"):
        manager.close_all_connections()
