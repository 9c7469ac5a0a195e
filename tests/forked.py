"""`dvt` and `dbt` command lines as processes of their own, forked from one that has imported
them already.

Importing dbt costs a new interpreter seconds of CPU (its artifact classes are generated at
import), and the suite runs hundreds of command lines. Each test process keeps one server
process that has imported the CLIs and their adapters, and no thread; each command line is a
child forked from it, which runs `cli()` as `python -c "...; sys.exit(cli())"` would, with its own
working folder, environment and output files, and exits. A command whose environment changes
what Python imports (`PYTHONPATH`) needs a fresh interpreter: `run` execs one for it.

    python -m tests.forked   # the server: JSON requests on stdin, replies on stdout
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import IO, Any

#: What the server imports before it forks: the CLIs and what their commands load, up to the
#: first import that starts a thread (DuckDB's and Arrow's native ones): a forked child would
#: inherit their locks and not the threads.
PRELOAD = ("dbt.cli.main", "dvt.cli.main", "dbt.adapters.postgres", "dvt.planning.planner")
#: Environment variables that change what a fresh interpreter imports.
_IMPORT_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH", "PYTHONNOUSERSITE")


def run(
    tool: str, args: list[str], *, cwd: Path, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`tool` ("dvt" or "dbt") with `args`, as `subprocess.run` with captured text output;
    raises `subprocess.TimeoutExpired` after `timeout` seconds (the process killed)."""
    environment = dict(os.environ if env is None else env)
    if any(environment.get(k) != os.environ.get(k) for k in _IMPORT_ENV):
        code = f"import sys; from {tool}.cli.main import cli; sys.exit(cli())"
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=timeout,
            env=environment,
        )
    return _server().run(tool, args, cwd, environment, timeout)


class _Server:
    """The client side of one server process; one command at a time."""

    def __init__(self) -> None:
        root = Path(__file__).resolve().parent.parent
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.forked"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=root,
            text=True,
        )
        self.lock = threading.Lock()
        atexit.register(self.close)

    def run(
        self, tool: str, args: list[str], cwd: Path, env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        with self.lock, tempfile.TemporaryDirectory(prefix="dvt-forked-") as folder:
            out, err = Path(folder, "stdout"), Path(folder, "stderr")
            request = {"tool": tool, "args": args, "cwd": str(cwd), "env": env}
            request |= {"stdout": str(out), "stderr": str(err)}
            assert self.process.stdin and self.process.stdout
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            pid = int(self._reply(30))
            try:
                status = int(self._reply(timeout))
            except subprocess.TimeoutExpired:
                os.kill(pid, signal.SIGKILL)
                self._reply(30)
                raise subprocess.TimeoutExpired([tool, *args], timeout) from None
            return subprocess.CompletedProcess([tool, *args], status, _text(out), _text(err))

    def _reply(self, timeout: float) -> str:
        assert self.process.stdout
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise subprocess.TimeoutExpired("tests.forked", timeout)
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fork server exited ({self.process.wait()})")
        return line

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin
            self.process.stdin.close()
            self.process.wait(30)


_SERVERS: dict[int, _Server] = {}


def _server() -> _Server:
    """This process's server (a forked test process starts its own)."""
    pid = os.getpid()
    if pid not in _SERVERS:
        _SERVERS[pid] = _Server()
    return _SERVERS[pid]


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


# -- the server ----------------------------------------------------------------------------


def _serve(requests: IO[str], replies: IO[str]) -> None:
    for module in PRELOAD:
        importlib.import_module(module)
    threads = len(os.listdir("/proc/self/task"))
    assert threads == 1, f"the fork server must have no thread when it forks ({threads})"
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        replies.write(f"{pid}\n")
        replies.flush()
        _, status = os.waitpid(pid, 0)
        replies.write(f"{os.waitstatus_to_exitcode(status)}\n")
        replies.flush()


def _child(request: dict[str, Any]) -> None:
    """Become the command line: its folder, environment and output; never returns."""
    code: object = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(target, fd)
            os.close(target)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.argv = ["-c", *request["args"]]
        sys.path[0] = ""  # as `python -c` has it: the working folder
        main = sys.modules["__main__"]
        main.__package__ = main.__spec__ = None  # the program is `-c`, as click names it
        cli = importlib.import_module(f"{request['tool']}.cli.main").cli
        code = cli()
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            threading._shutdown()  # type: ignore[attr-defined]  # as an interpreter's exit: join threads
            atexit._run_exitfuncs()
        finally:
            if isinstance(code, str):
                print(code, file=sys.stderr)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code if isinstance(code, int) else 0 if code is None else 1)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C of the test run is the client's
    _serve(sys.stdin, sys.stdout)
