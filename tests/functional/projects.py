"""Write small dbt projects and profiles to folders, and run `dbt` / `dvt` on them."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from dbt.cli.main import dbtRunner, dbtRunnerResult

from dvt.cli.main import dvtRunner
from tests import forked
from tests.servers.postgres import PostgresServer


def write_files(root: Path, files: dict[str, str]) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content).lstrip())


def pg_output(server: PostgresServer, database: str, schema: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "postgres",
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "dbname": database,
        "schema": schema,
        "threads": 4,
        **extra,
    }


def duck_output(path: Path, schema: str = "main", **extra: Any) -> dict[str, Any]:
    return {"type": "duckdb", "path": str(path), "schema": schema, "threads": 1, **extra}


@dataclass
class Project:
    """A project folder with its own profiles.yml; `dvt()` / `dbt()` run in this process."""

    root: Path
    profile: str = "test"

    def write(self, files: dict[str, str]) -> Project:
        write_files(self.root, files)
        return self

    def profiles(self, outputs: dict[str, dict[str, Any]], default: str) -> Project:
        (self.root / "profiles.yml").write_text(
            yaml.safe_dump({self.profile: {"target": default, "outputs": outputs}})
        )
        return self

    def _args(self, args: list[str]) -> list[str]:
        return [*args, "--project-dir", str(self.root), "--profiles-dir", str(self.root)]

    def dvt(self, *args: str) -> dbtRunnerResult:
        return dvtRunner().invoke(self._args(list(args)))

    def dbt(self, *args: str) -> dbtRunnerResult:
        return dbtRunner().invoke(self._args(list(args)))

    def cli(
        self, tool: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `dvt` or `dbt` as a separate process (`tests.forked`), for exit codes and printed
        output; `env` adds to (or overrides) this process's environment."""
        return forked.run(
            tool,
            self._args(list(args)),
            cwd=self.root,
            timeout=300,
            env={**os.environ, **env} if env is not None else None,
        )

    def artifact(self, name: str) -> dict[str, Any]:
        return json.loads((self.root / "target" / name).read_text())

    def statuses(self) -> dict[str, str]:
        return {r["unique_id"]: r["status"] for r in self.artifact("run_results.json")["results"]}


def dbt_project_yml(name: str, extra: str = "") -> str:
    return f"name: {name}\nversion: '1.0'\nprofile: test\nconfig-version: 2\n{extra}"
