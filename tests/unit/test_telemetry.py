"""Under `dvt`, dbt's anonymous usage tracking is off unless the user opts in; plain `dbt` in the
same process keeps dbt's default (on). Each case runs in its own process without the tracking
variables tests/conftest.py sets, with dbt's tracker recording instead of sending anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

#: Runs each (tool, args, environment) invocation in one process; prints whether dbt tracked it.
SCRIPT = """
import json, os, sys
import dbt.tracking as tracking

sent = []
tracking.tracker.track = lambda event, *args, **kwargs: sent.append(event)  # records, never sends
def offline(*args, **kwargs):
    raise AssertionError("dbt tried to reach its collector")
tracking.emitter.http_post = tracking.emitter.http_get = offline

from dbt.cli.main import dbtRunner
from dvt.cli.main import dvtRunner

seen = []
for tool, args, env in json.loads(sys.argv[1]):
    os.environ.update(env)
    tracking.active_user, before = None, len(sent)
    runner = dvtRunner() if tool == "dvt" else dbtRunner()
    result = runner.invoke(args)
    assert result.success, result.exception
    user = tracking.active_user
    tracked = user is not None and not user.do_not_track
    seen.append({"tracked": tracked, "events": len(sent) - before})
    for name in env:
        del os.environ[name]
print(json.dumps(seen))
"""


def _invoke(tmp_path: Path, invocations: list[tuple[str, list[str], dict[str, str]]]) -> Any:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DBT_SEND_ANONYMOUS_USAGE_STATS", "DO_NOT_TRACK")
    }
    env["HOME"] = str(tmp_path)  # no ~/.dbt settings of this machine
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(invocations)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _debug(folder: Path, *extra: str, options: tuple[str, ...] = ()) -> list[str]:
    """`dvt debug --config-dir` goes through dbt's preflight, which starts tracking or not."""
    return [*options, "debug", "--config-dir", "--profiles-dir", str(folder), *extra]


def test_dvt_does_not_track_by_default_and_dbt_still_does(tmp_path: Path) -> None:
    dvt, dbt, dvt_again = _invoke(
        tmp_path,
        [
            ("dvt", _debug(tmp_path), {}),
            ("dbt", _debug(tmp_path), {}),
            ("dvt", _debug(tmp_path), {}),
        ],
    )
    assert dvt == {"tracked": False, "events": 0}
    assert dbt["tracked"] and dbt["events"] > 0  # dbt's own default, untouched by DVT
    assert dvt_again == {"tracked": False, "events": 0}


@pytest.mark.parametrize(
    ("case", "options", "env"),
    [
        ("option", ("--send-anonymous-usage-stats",), {}),
        ("environment", (), {"DBT_SEND_ANONYMOUS_USAGE_STATS": "true"}),
        ("project flags", (), {}),
    ],
)
def test_dvt_tracks_when_the_user_opts_in(
    tmp_path: Path, case: str, options: tuple[str, ...], env: dict[str, str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text(
        textwrap.dedent(
            """
            name: shop
            version: "1.0"
            profile: shop
            flags:
              send_anonymous_usage_stats: true
            """
        )
    )
    extra = ("--project-dir", str(project)) if case == "project flags" else ()
    (opted_in,) = _invoke(tmp_path, [("dvt", _debug(tmp_path, *extra, options=options), env)])
    assert opted_in["tracked"] and opted_in["events"] > 0, case


def test_do_not_track_still_wins_over_an_opt_in(tmp_path: Path) -> None:
    env = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "true", "DO_NOT_TRACK": "1"}
    (dvt,) = _invoke(tmp_path, [("dvt", _debug(tmp_path), env)])
    assert dvt == {"tracked": False, "events": 0}


def test_dvt_offers_dbts_tracking_option_off_by_default() -> None:
    import dbt.cli.main as dbt_main

    from dvt.cli.main import cli

    ours = {p.name: p for p in cli.params}["send_anonymous_usage_stats"]
    theirs = {p.name: p for p in dbt_main.cli.params}["send_anonymous_usage_stats"]
    assert ours.default is False and theirs.default is True
    assert ours.opts == theirs.opts and ours.envvar == theirs.envvar
