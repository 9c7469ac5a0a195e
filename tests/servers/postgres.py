"""A throwaway PostgreSQL cluster: initdb into a temporary folder, serve on 127.0.0.1, remove.

Runs as the `postgres` system user when started as root (initdb refuses root), with
`fsync=off` and password authentication, so tests exercise real credentials.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"


def _bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if os.path.exists(os.path.join(folder, "initdb")):
            return Path(folder)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError(
        "PostgreSQL server binaries not found: install Debian's `postgresql` "
        "(scripts/setup.sh does)."
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """A running cluster; `stop()` (or the context manager) removes it."""

    folder: Path
    port: int
    password: str
    user: str = SUPERUSER
    host: str = "127.0.0.1"

    def dsn_for(self, database: str) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    @classmethod
    def start(cls, password: str = "dvt-test-secret") -> PostgresServer:
        bindir = _bindir()
        folder = Path(tempfile.mkdtemp(prefix="dvt-pg-"))
        data = folder / "data"
        pwfile = folder / "pw"
        pwfile.write_text(password + "\n")
        run_as = _run_as_postgres(folder)
        subprocess.run(
            [
                *run_as,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
            ],
            check=True,
            capture_output=True,
        )
        port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            [
                *run_as,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(folder / "server.log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        return cls(folder=folder, port=port, password=password)

    def stop(self, remove: bool = True, mode: str = "immediate") -> None:
        """Stop the server (`pg_ctl stop -m <mode>`: `immediate` aborts every backend,
        `fast` terminates them and shuts down cleanly); `remove` deletes its files."""
        data = self.folder / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [
                    *_run_as_postgres(self.folder),
                    str(_bindir() / "pg_ctl"),
                    "-D",
                    str(data),
                    "-m",
                    mode,
                    "-w",
                    "stop",
                ],
                check=False,
                capture_output=True,
            )
        if remove:
            shutil.rmtree(self.folder, ignore_errors=True)

    def restart(self) -> None:
        """Start again after `stop(remove=False)` on the same port."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            [
                *_run_as_postgres(self.folder),
                str(_bindir() / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-o",
                options,
                "-l",
                str(self.folder / "server.log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL with psql and return its unaligned output."""
        result = subprocess.run(
            ["psql", self.dsn_for(database), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()

    def create_database(self, name: str) -> None:
        self.psql(f'create database "{name}"')

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _run_as_postgres(folder: Path) -> list[str]:
    """Prefix that runs a command as the `postgres` user when we are root."""
    if os.geteuid() != 0:
        return []
    entry = pwd.getpwnam(SUPERUSER)
    for path in [folder, *folder.rglob("*")]:
        # A running server removes files meanwhile (a dropped table's).
        with contextlib.suppress(FileNotFoundError):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    return ["runuser", "-u", SUPERUSER, "--"]
