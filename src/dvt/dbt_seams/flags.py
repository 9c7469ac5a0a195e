"""dbt's flags under `dvt`: anonymous usage tracking is off unless the user opts in, and dbt
1.12's v2 parser is refused.

dbt reports every invocation to dbt Labs' collector unless told not to, and decides it twice:
its `--send-anonymous-usage-stats` option defaults to true, and a defaulted option is then
overwritten by the `send_anonymous_usage_stats` of the project flags it reads from
dbt_project.yml's `flags:` (or profiles.yml's `config:`), a field that also defaults to true. DVT's
CLI offers dbt's option with a false default (`telemetry_off`), and while a `dvt` invocation runs
dbt reads the project flags into `DvtProjectFlags`, whose field defaults to false (a seam in
install.py). An explicit opt-in still wins, exactly as under dbt: `--send-anonymous-usage-stats`,
`DBT_SEND_ANONYMOUS_USAGE_STATS=true`, or `flags: {send_anonymous_usage_stats: true}`; and
`DO_NOT_TRACK=1` still turns it off. Plain `dbt` in the same process keeps dbt's defaults.

dbt 1.12 can hand parsing to a separate "v2 parser" program (`--use-v2-parser`,
`DBT_ENGINE_USE_V2_PARSER`, or `use_v2_parser` in the project flags); its manifest would bypass
DVT's manifest loader, so each of those fails with what to do instead.

`--warn-error-options` (and the project flags' `warn_error_options`) accept only dbt's event
names; under dvt they also accept DVT's warning codes (`EVENT_NAMES`, a seam in install.py).
"""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass
from typing import Any

import click
from dbt.contracts.project import ProjectFlags
from dbt.events import ALL_EVENT_NAMES
from dbt.exceptions import DbtProjectError

from dvt.events import WARNING_CODES


class _EventNames(set[str]):
    """dbt's event names (read live: dbt's `WarnErrorOptionsV2` adds "Deprecations" to the set
    it is given) and DVT's warning codes."""

    def __contains__(self, name: object) -> bool:
        return name in ALL_EVENT_NAMES or super().__contains__(name)


#: The names `--warn-error-options` accepts under dvt: dbt's events and DVT's warning codes.
EVENT_NAMES: set[str] = _EventNames(WARNING_CODES)  # not empty: dbt replaces an empty set

#: The click parameter of dbt's tracking option.
TRACKING_OPTION = "send_anonymous_usage_stats"
#: The click parameter of dbt 1.12's v2 parser switch (dbt 1.11 has none).
V2_PARSER_OPTION = "use_v2_parser"
V2_PARSER_REFUSED = (
    "DVT runs dbt-core's own parser, which its seams extend: dbt's v2 parser is not supported "
    "under dvt."
)


@dataclass
class DvtProjectFlags(ProjectFlags):
    """dbt's project flags, with anonymous usage tracking off unless the project turns it on."""

    send_anonymous_usage_stats: bool = False

    def __post_init__(self) -> None:
        if getattr(self, V2_PARSER_OPTION, None):  # a field of dbt 1.12's project flags
            raise DbtProjectError(V2_PARSER_REFUSED + " Remove use_v2_parser from the flags.")


def telemetry_off(option: click.Parameter) -> click.Parameter:
    """dbt's `--send-anonymous-usage-stats/--no-...` with a false default."""
    clone = copy(option)
    clone.default = False
    if isinstance(clone, click.Option):
        clone.help = (
            "Send anonymous usage stats to dbt Labs. [dvt] Off unless set here, by "
            "DBT_SEND_ANONYMOUS_USAGE_STATS=true or by dbt_project.yml's flags."
        )
    return clone


def _refuse_v2_parser(_ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value:
        raise click.BadParameter(
            V2_PARSER_REFUSED + " Leave out --use-v2-parser and DBT_ENGINE_USE_V2_PARSER.",
            param=param,
        )
    return value


def v2_parser_refused(option: click.Parameter) -> click.Parameter:
    """dbt 1.12's `--use-v2-parser/--no-use-v2-parser` (or DBT_ENGINE_USE_V2_PARSER), which
    fails with what to do when turned on."""
    clone = copy(option)
    clone.callback = _refuse_v2_parser
    return clone
