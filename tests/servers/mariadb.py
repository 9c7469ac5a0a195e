"""A throwaway MariaDB server (Debian's `mariadb-server`) on 127.0.0.1, for MySQL sources."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.postgres import free_port


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or (
            f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None
        )
        if found:
            return found
    raise RuntimeError(
        "MariaDB not found: install Debian's `mariadb-server` (scripts/setup.sh does)."
    )


@dataclass
class MariaDBServer:
    folder: Path
    port: int
    process: subprocess.Popen[bytes] = field(repr=False)
    user: str = "dvt"
    password: str = "dvt-mariadb-secret"
    host: str = "127.0.0.1"

    @classmethod
    def start(cls) -> MariaDBServer:
        folder = Path(tempfile.mkdtemp(prefix="dvt-mariadb-"))
        data = folder / "data"
        user = ["--user=root"] if os.geteuid() == 0 else []
        installed = subprocess.run(
            [
                _binary("mariadb-install-db", "mysql_install_db"),
                "--no-defaults",
                f"--datadir={data}",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
                *user,
            ],
            capture_output=True,
            text=True,
        )
        if installed.returncode != 0:  # say why: the bootstrap's own output is the only clue
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError(
                f"mariadb-install-db exited {installed.returncode}:\n"
                + (installed.stdout + installed.stderr)[-3000:]
            )
        port = free_port()
        process = subprocess.Popen(
            [
                _binary("mariadbd", "mysqld"),
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={folder / 'sock'}",
                f"--port={port}",
                "--bind-address=127.0.0.1",
                f"--pid-file={folder / 'pid'}",
                f"--log-error={folder / 'error.log'}",
                "--innodb-flush-log-at-trx-commit=0",
                "--skip-log-bin",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                *user,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = cls(folder=folder, port=port, process=process)
        server._wait()
        server.sql(
            f"CREATE USER '{server.user}'@'%' IDENTIFIED BY '{server.password}';"
            f"GRANT ALL ON *.* TO '{server.user}'@'%';"
        )
        return server

    def _wait(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.folder / "error.log").read_text(errors="replace")[-2000:])
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    if (self.folder / "sock").exists():
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("MariaDB did not start in time")

    def sql(self, statements: str, database: str | None = None) -> str:
        """Run SQL as root over the server's socket; returns tab-separated output."""
        args = [
            _binary("mariadb", "mysql"),
            "--no-defaults",
            f"--socket={self.folder / 'sock'}",
            "--default-character-set=utf8mb4",
            "-u",
            "root",
            "-N",
            "-B",
            "-e",
            statements,
        ]
        if database:
            args.append(database)
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> MariaDBServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
