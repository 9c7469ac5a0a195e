"""The Java Spark runs on: found as Spark's launcher finds it, its version read from a real
`java -version` (the machine's, and scripts standing in for other releases)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dvt.engines.spark import Java, find_java, java_needed, java_problem


def a_java(folder: Path, prints: str) -> Path:
    """A `java` on PATH whose `-version` prints `prints` on stderr, as Java does."""
    folder.mkdir(parents=True, exist_ok=True)
    java = folder / "java"
    lines = " ".join(f"'{line}'" for line in prints.splitlines())
    java.write_text(f"#!/bin/sh\nprintf '%s\\n' {lines} >&2\n")  # builtins only: PATH may be bare
    java.chmod(0o755)
    return java


@pytest.fixture
def only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """PATH holding only `tmp_path/bin`, no JAVA_HOME."""
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    return tmp_path / "bin"


def test_the_machines_java_runs_spark() -> None:
    java = find_java()
    assert isinstance(java, Java)
    printed = subprocess.run([java.path, "-version"], capture_output=True, text=True).stderr
    assert f'"{java.version}"' in printed.splitlines()[0]
    if not os.environ.get("JAVA_HOME"):
        assert java.path == shutil.which("java")
    assert java.major >= java_needed() == 17  # pyspark 4
    assert java_problem("spark") is None


@pytest.mark.parametrize(
    ("prints", "major"),
    [
        ('java version "1.8.0_392"\nJava(TM) SE Runtime Environment (build 1.8.0_392-b08)', 8),
        ('openjdk version "11.0.21" 2023-10-17', 11),
        ('openjdk version "21.0.2" 2024-01-16\nOpenJDK Runtime Environment', 21),
        ('openjdk version "25" 2025-09-16', 25),
    ],
)
def test_java_versions_are_read_from_java_version(only: Path, prints: str, major: int) -> None:
    made = a_java(only, prints)
    java = find_java()
    assert isinstance(java, Java) and java.path == str(made) and java.major == major
    problem = java_problem("cluster")
    if major >= 17:
        assert problem is None
    else:
        assert problem is not None
        assert (
            f"Compute 'cluster' runs Spark, which needs Java 17 or later, and {java.path} is Java"
            in problem
        )
        assert "JAVA_HOME" in problem


def test_java_home_wins_over_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    a_java(tmp_path / "bin", 'openjdk version "11.0.21"')
    home_java = a_java(tmp_path / "jdk" / "bin", 'openjdk version "17.0.9"')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    assert find_java() == Java(str(home_java), "17.0.9")


def test_no_java_says_where_it_looked(only: Path) -> None:
    assert find_java() == "no java found (on PATH)"
    problem = java_problem("spark")
    assert problem is not None and "no java found (on PATH)" in problem
