"""Which jars a Spark compute starts with, and which one drives its PostgreSQL JDBC reads."""

from pathlib import Path

import pytest

from dvt.engines.spark import jdbc_jar, resolve_jars, spark_jars
from dvt.exceptions import EngineUnavailableError


def test_a_configured_jar_of_another_database_is_not_taken_for_postgresql(tmp_path: Path) -> None:
    mysql = tmp_path / "mysql-connector-j-8.4.0.jar"
    postgresql = tmp_path / "postgresql-42.7.3.jar"
    mysql.touch()
    assert jdbc_jar("postgres", [str(mysql)]) in (None, "/usr/share/java/postgresql.jar")
    postgresql.touch()
    assert jdbc_jar("postgres", [str(mysql), str(postgresql)]) == str(postgresql)
    assert jdbc_jar("mysql", [str(mysql)]) is None  # Spark reads MySQL through DVT, as Arrow
    remote = "https://repo1.maven.org/maven2/org/postgresql/postgresql/42.7.3/postgresql-42.7.3.jar"
    assert jdbc_jar("postgres", [remote]) == remote


def test_every_configured_jar_reaches_spark(tmp_path: Path) -> None:
    extra, postgresql = tmp_path / "udfs.jar", tmp_path / "postgresql-42.7.3.jar"
    extra.touch()
    postgresql.touch()
    uri = "local:/opt/spark/jars/extra.jar"  # on the executors; Spark resolves it
    jars = resolve_jars("big", [str(extra), uri, str(postgresql)])
    assert jars == [str(extra), uri, str(postgresql)]
    assert spark_jars(jars, "a.jar").split(",") == ["a.jar", *jars]
    globbed = resolve_jars("big", [str(tmp_path / "*.jar")])
    assert globbed == [str(postgresql), str(extra)]  # a pattern, in name order
    assert spark_jars(globbed).split(",")[:2] == globbed


def test_a_configured_jar_that_does_not_exist_is_named(tmp_path: Path) -> None:
    missing = str(tmp_path / "postgresql-42.7.3.jar")
    with pytest.raises(EngineUnavailableError, match="no such file") as raised:
        resolve_jars("big", [missing])
    assert raised.value.code == "DVT105"
    assert f"jar {missing!r}" in str(raised.value) and "'big'" in str(raised.value)


def test_without_a_postgresql_driver_spark_refuses_to_write_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dvt.config.computes import ComputeSpec
    from dvt.engines import spark

    missing = str(tmp_path / "none" / "postgresql.jar")  # a machine without the Debian package
    monkeypatch.setitem(
        spark.JDBC_DRIVERS, "postgres", ("org.postgresql.Driver", "postgresql", (missing,))
    )
    other = tmp_path / "mysql-connector-j-8.4.0.jar"
    other.touch()
    engine = spark.SparkEngine(ComputeSpec("big", "spark", {"jars": [str(other)]}))
    with pytest.raises(EngineUnavailableError, match="libpostgresql-jdbc-java") as raised:
        engine.require_jdbc_writer("postgres", "warehouse")
    assert raised.value.code == "DVT105"
    assert "target 'warehouse'" in str(raised.value)
    driver = tmp_path / "postgresql-42.7.3.jar"
    driver.touch()
    engine = spark.SparkEngine(ComputeSpec("big", "spark", {"jars": [str(other), str(driver)]}))
    engine.require_jdbc_writer("postgres", "warehouse")  # found: no error
