"""`dvt sync`: the exact specs DVT's pyproject.toml pins for what each profile needs, the Java
Spark needs, the Spark Connect client, and DuckDB extension packages built for another duckdb
(DVT105, also in `dvt debug` and when a federated model runs)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.functional.projects import Project, dbt_project_yml, duck_output

pytestmark = [pytest.mark.duckdb, pytest.mark.sqlite]

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"
#: A PostgreSQL output nothing connects to: sync only reads the profile.
PG = {"type": "postgres", "host": "127.0.0.1", "port": 1, "user": "u", "password": "p",
      "dbname": "d", "schema": "s", "threads": 1}  # fmt: skip
MYSQL = {"type": "mysql", "host": "127.0.0.1", "port": 1, "user": "u", "password": "p",
         "database": "d"}  # fmt: skip


def pins(extra: str | None = None) -> list[Requirement]:
    """The requirements pyproject.toml writes (its dependencies, or one extra)."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    lines = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def pin(name: str, extra: str | None = None) -> str:
    """The spec pyproject.toml writes for `name`, as pip prints it (`pyspark<5,>=4`)."""
    (found,) = [str(r) for r in pins(extra) if r.name == name]
    return found


def pyspark_connect_extra() -> set[str]:
    """What the installed pyspark's `connect` extra requires, beside what DVT's extra pins."""
    ours = {canonicalize_name(r.name) for r in pins("spark-connect")}
    found = set()
    for line in importlib.metadata.requires("pyspark") or []:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or not marker.evaluate({"extra": "connect"}):
            continue
        if canonicalize_name(requirement.name) not in ours:
            requirement.marker = None
            found.add(str(requirement))
    return found


def listed(stdout: str) -> dict[str, str]:
    """`dvt sync`'s table: each spec and what the machine has."""
    rows = [line[2:].split("  ") for line in stdout.splitlines() if line.startswith("  ")]
    return {row[0]: next(cell.strip() for cell in row[1:] if cell.strip()) for row in rows}


def project(root: Path, outputs: dict[str, Any], files: dict[str, Any] | None = None) -> Project:
    made = Project(root).write({"dbt_project.yml": dbt_project_yml("synced")})
    made.profiles(outputs, next(iter(outputs)))
    for name, content in (files or {}).items():
        (root / name).write_text(yaml.safe_dump({"test": content}))
    return made


BASE = {pin("dbt-postgres"), pin("duckdb"), pin("duckdb-extension-postgres-scanner")}
NEEDS = {
    "two targets": (
        {"pg": PG, "duck": {"type": "duckdb", "path": "x.duckdb"}},
        {},
        BASE | {pin("dbt-duckdb")},
    ),
    "source-only connections": (
        {
            "pg": PG,
            "shop": {"type": "sqlite", "path": "shop.sqlite"},
            "erp": MYSQL,
        },
        {},
        BASE | {pin("duckdb-extension-sqlite-scanner"), pin("duckdb-extension-mysql-scanner")},
    ),
    "a Spark cluster": (
        {"pg": PG},
        {"computes.yml": {"computes": {"cluster": {"type": "spark", "master": "local[1]"}}}},
        BASE | {pin("pyspark", "spark"), "java 17 or later", "libpostgresql-jdbc-java"},
    ),
    "a Spark Connect server": (
        {"pg": PG},
        {"computes.yml": {"computes": {"connect": {"type": "spark", "remote": "sc://h:15002"}}}},
        BASE
        | {pin("pyspark", "spark-connect"), pin("pandas", "spark-connect")}
        | pyspark_connect_extra(),
    ),
    "an S3 bucket": (
        {"pg": PG},
        {"buckets.yml": {"buckets": {"lake": {"type": "s3", "bucket": "lake"}}}},
        BASE | {pin("duckdb-extension-httpfs"), pin("boto3", "s3")},
    ),
}


@pytest.mark.parametrize("case", NEEDS, ids=list(NEEDS))
def test_sync_lists_the_pinned_spec_of_each_need(case: str, tmp_path: Path) -> None:
    outputs, files, expected = NEEDS[case]
    synced = project(tmp_path, outputs, files).cli("dvt", "sync", "--dry-run")
    assert synced.returncode == 0, synced.stdout[-3000:]
    assert set(listed(synced.stdout)) == expected
    assert "Python packages: nothing to install." in synced.stdout  # the dev venv has them all


def test_sync_installs_an_adapter_with_dbt_core_held(tmp_path: Path) -> None:
    snowflake = {"type": "snowflake", "account": "a", "user": "u", "password": "p",
                 "database": "d", "schema": "s", "warehouse": "w"}  # fmt: skip
    synced = project(tmp_path, {"pg": PG, "snow": snowflake}).cli("dvt", "sync", "--dry-run")
    assert synced.returncode == 0, synced.stdout[-3000:]
    assert listed(synced.stdout)["dbt-snowflake"] == "missing"
    dbt_core = importlib.metadata.version("dbt-core")
    assert f"Would install: 'dbt-snowflake' 'dbt-core=={dbt_core}'" in synced.stdout


def fake_distribution(folder: Path, name: str, version: str) -> None:
    """Installed-package metadata saying `name` is at `version` (ahead of the venv's on
    PYTHONPATH), as an older install leaves it."""
    info = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def test_a_connect_compute_without_its_client_is_not_nothing_to_install(tmp_path: Path) -> None:
    old = tmp_path / "old"
    fake_distribution(old, "pandas", "2.1.0")
    connect = {"computes": {"connect": {"type": "spark", "remote": "sc://127.0.0.1:1"}}}
    made = project(tmp_path / "project", {"pg": PG}, {"computes.yml": connect})
    synced = made.cli("dvt", "sync", "--dry-run", env={"PYTHONPATH": str(old)})
    assert synced.returncode == 0, synced.stdout[-3000:]
    assert listed(synced.stdout)[pin("pandas", "spark-connect")] == "2.1.0 (not in range)"
    assert f"Would install: '{pin('pandas', 'spark-connect')}'" in synced.stdout
    assert "nothing to install" not in synced.stdout
    debugged = made.cli("dvt", "debug", "--compute", "connect", env={"PYTHONPATH": str(old)})
    assert debugged.returncode == 1
    (line,) = [text for text in debugged.stdout.splitlines() if "  connect (spark) [" in text]
    assert "ERROR" in line and "[DVT105]" in line and pin("pandas", "spark-connect") in line


# -- a DuckDB extension package built for another duckdb ---------------------------------------

OTHER_DUCKDB = "1.4.0"


def extension_built_for(folder: Path, extension: str, version: str) -> str:
    """A copy of the installed extension package, labelled (folder and metadata) as built for
    another duckdb: what an upgrade of duckdb alone leaves behind. Returns its distribution."""
    package = f"duckdb_extension_{extension}"
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    installed = Path(spec.submodule_search_locations[0])
    binary = next(installed.rglob(f"{extension}.duckdb_extension"))
    copy = folder / package
    (copy / "extensions" / f"v{version}").mkdir(parents=True)
    shutil.copy(installed / "__init__.py", copy / "__init__.py")
    shutil.copy(binary, copy / "extensions" / f"v{version}" / binary.name)
    distribution = package.replace("_", "-")
    fake_distribution(folder, distribution, version)
    return distribution


@pytest.fixture
def shop_to_lake(tmp_path: Path) -> Project:
    """A DuckDB target whose model reads a SQLite source: federation loads sqlite_scanner."""
    shop = tmp_path / "shop.sqlite"
    with sqlite3.connect(shop) as conn:
        conn.execute("create table orders (id integer, amount integer)")
        conn.execute("insert into orders values (1, 10), (2, 20)")
    made = Project(tmp_path / "project").write(
        {
            "dbt_project.yml": dbt_project_yml("lake"),
            "models/sources.yml": "sources:\n  - name: shop\n    schema: main\n"
            "    config: {connection: shop}\n    tables: [{name: orders}]\n",
            "models/totals.sql": "{{ config(materialized='table') }}\n"
            "select sum(amount) as total from {{ source('shop', 'orders') }}",
        }
    )
    made.profiles(
        {
            "lake": duck_output(tmp_path / "lake.duckdb"),
            "shop": {"type": "sqlite", "path": str(shop)},
        },
        "lake",
    )
    return made


def test_an_extension_for_another_duckdb_is_dvt105_with_the_fix(
    shop_to_lake: Project, tmp_path: Path
) -> None:
    stale = tmp_path / "stale"
    package = extension_built_for(stale, "sqlite_scanner", OTHER_DUCKDB)
    env = {"PYTHONPATH": str(stale)}
    fix = (
        f"[DVT105] Package {package} {OTHER_DUCKDB} is built for DuckDB {OTHER_DUCKDB}, but "
        f"duckdb {duckdb.__version__} is installed: install the versions DVT pins with "
        f"`pip install '{pin('duckdb')}' '{pin(package)}'` (or run `dvt sync`)."
    )

    synced = shop_to_lake.cli("dvt", "sync", "--dry-run", env=env)
    assert synced.returncode == 0, synced.stdout[-3000:]
    assert listed(synced.stdout)[pin(package)] == f"{OTHER_DUCKDB} (not for this duckdb)"
    assert fix in synced.stdout
    assert f"Would install: '{pin(package)}'" in synced.stdout

    debugged = shop_to_lake.cli("dvt", "debug", env=env)
    assert debugged.returncode == 1
    (line,) = [text for text in debugged.stdout.splitlines() if "  duckdb (duckdb) [" in text]
    assert "ERROR" in line and fix in line

    ran = shop_to_lake.cli("dvt", "run", env=env)
    assert ran.returncode == 1
    assert fix in " ".join(ran.stdout.split()) and "[DVT104]" not in ran.stdout

    healthy = shop_to_lake.cli("dvt", "run")  # the same project with the venv's own package
    assert healthy.returncode == 0, healthy.stdout[-3000:]


def extension_wheel(wheelhouse: Path, extension: str, version: str) -> Path:
    """A wheel of the installed extension package at `version`, its binary filed under
    `extensions/v<version>/` as DuckDB's own wheels file it."""
    import zipfile

    package = f"duckdb_extension_{extension}"
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    installed = Path(spec.submodule_search_locations[0])
    binary = next(installed.rglob(f"{extension}.duckdb_extension"))
    info = f"{package}-{version}.dist-info"
    wheelhouse.mkdir(parents=True, exist_ok=True)
    wheel = wheelhouse / f"{package}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.write(installed / "__init__.py", f"{package}/__init__.py")
        archive.write(binary, f"{package}/extensions/v{version}/{binary.name}")
        name = package.replace("_", "-")
        archive.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        archive.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        files = [f"{package}/__init__.py", f"{package}/extensions/v{version}/{binary.name}"]
        archive.writestr(f"{info}/RECORD", "".join(f"{f},,\n" for f in [*files, f"{info}/RECORD"]))
    return wheel


def test_sync_installs_the_pinned_extension_over_one_for_another_duckdb(
    shop_to_lake: Project, tmp_path: Path
) -> None:
    """A venv of its own (this venv's packages behind its own), where an older extension wheel
    is installed; `dvt sync` runs pip there, offline, from a folder of wheels."""
    import subprocess
    import sys
    import sysconfig

    package = "duckdb-extension-sqlite-scanner"
    wheels = tmp_path / "wheels"
    old = extension_wheel(tmp_path / "old", "sqlite_scanner", OTHER_DUCKDB)
    extension_wheel(wheels, "sqlite_scanner", duckdb.__version__)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    own_site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    ours = sysconfig.get_path("purelib")
    (Path(own_site) / "dvt_test_venv.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    offline = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels)}
    pip = [python, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, str(old)], check=True, env=offline)

    def dvt(*args: str) -> subprocess.CompletedProcess[str]:
        code = "import sys; from dvt.cli.main import cli; sys.exit(cli())"
        where = ["--project-dir", str(shop_to_lake.root), "--profiles-dir", str(shop_to_lake.root)]
        return subprocess.run(
            [python, "-c", code, *args, *where],
            capture_output=True, text=True, env=offline, cwd=shop_to_lake.root, timeout=300,
        )  # fmt: skip

    before = dvt("sync", "--dry-run")
    assert listed(before.stdout)[pin(package)] == f"{OTHER_DUCKDB} (not for this duckdb)"
    synced = dvt("sync")
    assert synced.returncode == 0, synced.stdout[-3000:] + synced.stderr[-3000:]
    assert f"Installing: '{pin(package)}'" in synced.stdout
    installed = sorted(p.name for p in Path(own_site).glob("duckdb_extension_sqlite_scanner-*"))
    assert installed == [f"duckdb_extension_sqlite_scanner-{duckdb.__version__}.dist-info"]
    after = dvt("sync", "--dry-run")
    assert listed(after.stdout)[pin(package)] == duckdb.__version__
    assert "Python packages: nothing to install." in after.stdout
    ran = dvt("run")
    assert ran.returncode == 0, ran.stdout[-3000:]


# -- Java ------------------------------------------------------------------------------------


def old_java(folder: Path) -> Path:
    """A `java` that reports Java 8, as `java -version` does (on stderr)."""
    folder.mkdir(parents=True, exist_ok=True)
    java = folder / "java"
    java.write_text("#!/bin/sh\necho 'java version \"1.8.0_392\"' >&2\n")
    java.chmod(0o755)
    return folder


def test_sync_and_spark_refuse_a_java_too_old_for_spark(
    shop_to_lake: Project, tmp_path: Path
) -> None:
    cluster = {"computes": {"local": {"type": "spark", "master": "local[1]"}}}
    (shop_to_lake.root / "computes.yml").write_text(yaml.safe_dump({"test": cluster}))
    path = f"{old_java(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}"
    env = {"PATH": path, "JAVA_HOME": ""}
    wanted = (
        f"[DVT105] Compute 'local' runs Spark, which needs Java 17 or later, and "
        f"{tmp_path / 'bin' / 'java'} is Java 1.8.0_392"
    )

    synced = shop_to_lake.cli("dvt", "sync", "--dry-run", env=env)
    assert synced.returncode == 1
    assert listed(synced.stdout)["java 17 or later"] == f"1.8.0_392 ({tmp_path / 'bin' / 'java'})"
    assert wanted in synced.stdout

    debugged = shop_to_lake.cli("dvt", "debug", "--compute", "local", env=env)
    assert debugged.returncode == 1
    (line,) = [text for text in debugged.stdout.splitlines() if "  local (spark) [" in text]
    assert "ERROR" in line and wanted in line

    ran = shop_to_lake.cli("dvt", "run", "--compute", "local", "--placement", "engine", env=env)
    assert ran.returncode == 1
    assert wanted in " ".join(ran.stdout.split())

    with_machines_java = shop_to_lake.cli("dvt", "sync", "--dry-run")
    assert with_machines_java.returncode == 0, with_machines_java.stdout[-3000:]
    assert listed(with_machines_java.stdout)["java 17 or later"].split()[0] == machine_java()


def machine_java() -> str:
    """The version the machine's java prints (its first line: `openjdk version "17.0.15" ...`)."""
    import subprocess

    java = (
        os.path.join(os.environ["JAVA_HOME"], "bin", "java")
        if os.environ.get("JAVA_HOME")
        else shutil.which("java")
    )
    assert java is not None, "the suite needs Java (scripts/setup.sh)"
    printed = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    return printed.splitlines()[0].split('"')[1]
