"""DVT's errors: one root, stable codes (DESIGN.md section 7), no credentials in messages.

Every error derives from dbt's `DbtRuntimeError`, so dbt's CLI handling applies unchanged:
the message is printed as `Encountered an error: ...` and the exit code is dbt's.
"""

from __future__ import annotations

from dbt_common.exceptions import DbtRuntimeError


class DvtError(DbtRuntimeError):
    """Root of every DVT error; `code` is the stable DVT code shown to users."""

    code = "DVT000"
    CODE = 10017  # dbt's numeric code for runtime errors; DVT keeps its own in `code`.

    def __init__(self, msg: str) -> None:
        super().__init__(f"[{self.code}] {msg}")


class UnknownTargetError(DvtError):
    code = "DVT100"


class UnknownComputeError(DvtError):
    code = "DVT101"


class UnknownBucketError(DvtError):
    code = "DVT102"


class ConflictingConnectionError(DvtError):
    code = "DVT103"


class UnsupportedFederationError(DvtError):
    code = "DVT104"


class InexactResultError(UnsupportedFederationError):
    """The engine's result has a column the target's type cannot take exactly from it."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The engine cannot write its result exactly: {reason}.")
        self.reason = reason


class InterruptedNodeError(DvtError):
    """Ctrl-C came while a federated node moved its inputs: it stops before it writes."""

    code = "DVT104"

    def __init__(self, node_id: str) -> None:
        super().__init__(
            f"Federated node {node_id!r} was interrupted (Ctrl-C); nothing was written."
        )


class EngineUnavailableError(DvtError):
    code = "DVT105"


class TargetUnavailableError(DvtError):
    """A target that cannot be used: no adapter installed, source-only, or unreachable."""

    code = "DVT106"


class InvalidPlacementError(DvtError):
    """A `placement` config or `--placement` value that is not auto, target or engine."""

    code = "DVT107"


class DiffError(DvtError):
    """`dvt diff` cannot compare: a side names nothing that exists, or a --key column is missing."""

    code = "DVT108"


class DialectError(DvtError):
    """A model's `dialect` config cannot be carried over to its target's dialect exactly."""

    code = "DVT109"


def names_hint(names: object) -> str:
    """`'a', 'b'` for error messages that list the names that do exist."""
    listed = sorted(str(n) for n in names)  # type: ignore[attr-defined]
    return ", ".join(repr(n) for n in listed) if listed else "(none)"


class SeedFileError(DbtRuntimeError):
    """A seed CSV that cannot be loaded: names the file and line, and what to do."""

    def __init__(self, path: str, line: int | None, reason: str, fix: str = "Fix the file") -> None:
        where = f"{path}, line {line}" if line else path
        super().__init__(
            f"Seed file {where}: {reason}. {fix} and seed again; "
            "the existing table was left as it was."
        )
