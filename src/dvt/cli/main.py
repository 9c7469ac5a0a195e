"""The `dvt` command line: dbt's own click commands, run with DVT's tasks.

Every dbt command and option is dbt's object, so `dvt <cmd> --help` lists what dbt lists. DVT
adds `--compute`, `--bucket` and `--placement` to the commands that run nodes, `plan` (alias
`explain`), and its own `--version`. The whole invocation runs with DVT's seams installed
(dvt.dbt_seams.install). dbt's anonymous usage tracking is off unless the user opts in
(dvt.dbt_seams.flags).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from copy import copy
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import click
from dbt.cli import requires
from dbt.cli.main import cli as dbt_cli
from dbt.cli.main import dbtRunner, dbtRunnerResult

from dvt import __version__, invocation
from dvt.dbt_seams import flags as dvt_flags
from dvt.dbt_seams.install import dvt_cli_as_dbt_cli, dvt_event_names, dvt_seams

#: dbt commands that run or compile nodes, and so accept `--compute`.
COMPUTE_COMMANDS = (
    "debug",
    "build",
    "run",
    "compile",
    "show",
    "test",
    "seed",
    "snapshot",
    "retry",
    "list",
    "ls",
)

COMPUTE_OPTION = click.Option(
    ["--compute"],
    envvar="DVT_COMPUTE",
    default=None,
    help="[dvt] Compute engine for federated nodes: a name from computes.yml, or the built-in "
    "duckdb or spark.",
)

BUCKET_OPTION = click.Option(
    ["--bucket"],
    envvar="DVT_BUCKET",
    default=None,
    help="[dvt] Stage federated nodes' data as Parquet files in this bucket from buckets.yml.",
)


PLACEMENT_OPTION = click.Option(
    ["--placement"],
    envvar="DVT_PLACEMENT",
    default=None,
    type=click.Choice(["auto", "target", "engine"]),
    help="[dvt] Where federated nodes are computed: on their target over imported copies of "
    "their remote inputs, in the compute engine, or auto (the cheaper one the engine is proven "
    "exact for).",
)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    lines = [f"dvt: {__version__}"]
    for package in ("dbt-core", "dbt-postgres", "dbt-duckdb", "duckdb", "sqlglot", "pyarrow"):
        try:
            lines.append(f"  - {package}: {version(package)}")
        except PackageNotFoundError:
            continue
    click.echo("\n".join(lines))
    ctx.exit()


VERSION_OPTION = click.Option(
    ["--version", "-V", "-v"],
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show DVT's version with dbt-core's and the adapters', and exit.",
)


@contextlib.contextmanager
def signals_as_ctrl_c() -> Iterator[None]:
    """While the command runs, SIGTERM (`kill`, a scheduler stopping the job) takes dbt's
    Ctrl-C path: queries are cancelled on every target, federated staging is dropped,
    run_results.json is written and the exit code is 2. Under Python's default handling the
    process would die at once and leave its queries running on the servers. Both signals
    first mark the invocation interrupted, so that no federated node starts its next step
    while dbt is still on its way to cancelling (`Invocation.stop_if_interrupted`).

    Only from the main thread (where signals are delivered), and only for a signal nothing
    else has claimed."""
    main = threading.current_thread() is threading.main_thread()
    ours: dict[signal.Signals, Any] = {
        signal.SIGINT: signal.default_int_handler,
        signal.SIGTERM: signal.SIG_DFL,
    }
    claimed = [s for s, unset in ours.items() if main and signal.getsignal(s) is unset]
    for signum in claimed:
        signal.signal(signum, _ctrl_c)
    try:
        yield
    finally:
        for signum in claimed:
            signal.signal(signum, ours[signum])


def _ctrl_c(signum: int, frame: Any) -> None:
    invocation.mark_interrupted()
    signal.default_int_handler(signum, frame)  # raises KeyboardInterrupt


class DvtGroup(click.Group):
    """dbt's top-level group, run inside DVT's seams; adapters DVT opened close at the end."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """The command line (`dvt ...`); `dvtRunner` leaves signals to its caller."""
        with signals_as_ctrl_c():
            return super().main(*args, **kwargs)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        """Parse the top-level options, where `--warn-error-options` may name DVT's codes."""
        with dvt_event_names():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with dvt_seams():
            try:
                return super().invoke(ctx)
            finally:
                invocation.end()


COMPUTES_SKELETON_OPTION = click.Option(
    ["--computes"],
    is_flag=True,
    default=False,
    help="[dvt] Also write a commented computes.yml skeleton beside profiles.yml.",
)


def _with_compute(command: click.Command) -> click.Command:
    clone = copy(command)
    clone.params = [*command.params, COMPUTE_OPTION, BUCKET_OPTION, PLACEMENT_OPTION]
    return clone


def _manifest_task(load: Callable[[], type[Any]]) -> Callable[..., tuple[Any, bool]]:
    """A command that runs a DVT task over the parsed manifest (written by nothing), as dbt's
    own `ls` does; `load` imports the task only when the command runs."""

    @click.pass_context
    @requires.postflight
    @requires.preflight
    @requires.profile
    @requires.project
    @requires.runtime_config
    @requires.manifest(write=False)
    def command(ctx: click.Context, **kwargs: Any) -> tuple[Any, bool]:
        task = load()(ctx.obj["flags"], ctx.obj["runtime_config"], ctx.obj["manifest"])
        results = task.run()
        return results, task.interpret_results(results)

    return command


def _plan_task() -> type[Any]:
    """Prints how each selected node will run: target, path, targets read and compute."""
    from dvt.tasks.plan import DvtPlanTask

    return DvtPlanTask


def _diff_task() -> type[Any]:
    """Compares two relations on any targets: exit 0 when identical, 1 when they differ."""
    from dvt.tasks.diff import DvtDiffTask

    return DvtDiffTask


@click.pass_context
@requires.postflight
@requires.preflight
@requires.profile
def _sync(ctx: click.Context, **kwargs: Any) -> tuple[Any, bool]:
    """Install DVT's pins of what this profile needs; list what else it needs (Java, Debian)."""
    from dbt.flags import get_flags

    from dvt.config.buckets import Buckets
    from dvt.config.computes import Computes
    from dvt.config.targets import ProfileTargets
    from dvt.tasks.sync import sync

    profile = ctx.obj["profile"]
    targets = ProfileTargets.load(profile.profile_name, profile.target_name, get_flags().VARS)
    computes = Computes.load(get_flags().PROFILES_DIR, profile.profile_name)
    buckets = Buckets.load(get_flags().PROFILES_DIR, profile.profile_name)
    success = sync(targets, computes, buckets, dry_run=kwargs["dry_run"])
    return success, success


DIFF_PARAMS = [
    click.Argument(["a"]),
    click.Argument(["b"], required=False),
    click.Option(
        ["--key"],
        default=None,
        help="[dvt] Columns (comma-separated) matching rows of A and B, for per-column "
        "differences; without it rows are compared whole, as multisets.",
    ),
    click.Option(
        ["--float-tolerance"],
        type=float,
        default=None,
        help="[dvt] Floating-point values closer than this are equal.",
    ),
    click.Option(
        ["--output", "-o"],
        type=click.Choice(["text", "json"]),
        default="text",
        help="[dvt] The report as text lines or one JSON document.",
    ),
    click.Option(
        ["--samples"],
        type=click.IntRange(min=0),
        default=10,
        help="[dvt] Example rows shown of each kind of difference.",
    ),
]

ESTIMATE_OPTION = click.Option(
    ["--estimate"],
    is_flag=True,
    default=False,
    help="[dvt] Also show each input's row count from its database's statistics (SQLite, which "
    "keeps none, is counted).",
)

DRY_RUN_OPTION = click.Option(
    ["--dry-run"], is_flag=True, default=False, help="List what is needed; install nothing."
)


def _dvt_param(param: click.Parameter) -> click.Parameter:
    """dbt's top-level option, or DVT's version of it (see dvt.dbt_seams.flags)."""
    if param.name == "version":
        return VERSION_OPTION
    if param.name == dvt_flags.TRACKING_OPTION:
        return dvt_flags.telemetry_off(param)
    if param.name == dvt_flags.V2_PARSER_OPTION:
        return dvt_flags.v2_parser_refused(param)
    return param


def _build_cli() -> DvtGroup:
    commands: dict[str, click.Command] = {}
    for name, command in dbt_cli.commands.items():
        commands[name] = _with_compute(command) if name in COMPUTE_COMMANDS else command
    plan = click.Command(
        "plan",
        callback=_manifest_task(_plan_task),
        params=[
            *dbt_cli.commands["list"].params,
            COMPUTE_OPTION,
            BUCKET_OPTION,
            PLACEMENT_OPTION,
            ESTIMATE_OPTION,
        ],
        help="Show each selected node's target, execution path, inputs and compute.",
    )
    commands["init"] = copy(dbt_cli.commands["init"])
    commands["init"].params = [*dbt_cli.commands["init"].params, COMPUTES_SKELETON_OPTION]
    commands["plan"] = plan
    commands["sync"] = click.Command(
        "sync",
        callback=_sync,
        params=[
            *(
                p
                for p in dbt_cli.commands["debug"].params
                if p.name not in ("connection", "config_dir")
            ),
            DRY_RUN_OPTION,
        ],
        help="Install the versions DVT pins of what the profile, computes.yml and buckets.yml "
        "need; check Java and the JDBC driver for Spark (--dry-run only lists).",
    )
    commands["diff"] = click.Command(
        "diff",
        callback=_manifest_task(_diff_task),
        params=[*dbt_cli.commands["parse"].params, *DIFF_PARAMS],
        help="Compare two relations on any targets (A and B: a model, `model@target`, "
        "`source:src.table` or `target:schema.table`) without copying either; with --state "
        "and only A, the model against its build recorded in that folder's artifacts.",
    )
    explain = copy(plan)
    explain.hidden = True
    commands["explain"] = explain
    params = [_dvt_param(p) for p in dbt_cli.params]
    return DvtGroup(
        name="dvt",
        commands=commands,
        params=params,
        callback=dbt_cli.callback,
        invoke_without_command=True,
        no_args_is_help=True,
        context_settings=dbt_cli.context_settings,
        help="dbt with every profile output a live target: pushdown where possible, "
        "federation where a model's inputs span targets.",
        epilog=dbt_cli.epilog,
    )


cli = _build_cli()


class dvtRunner(dbtRunner):  # noqa: N801 - mirrors dbt's `dbtRunner`
    """Programmatic invocation, as dbt's: `dvtRunner().invoke(["run", "-s", "m"])`."""

    def invoke(self, args: list[str], **kwargs: Any) -> dbtRunnerResult:
        with dvt_cli_as_dbt_cli(cli):
            return super().invoke(args, **kwargs)
