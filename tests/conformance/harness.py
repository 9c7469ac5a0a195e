"""The differential harness: PostgreSQL is the oracle.

A federated answer is right when it equals what the target database gives for the same SQL over
copies of the inputs: the same column names and types (`format_type`), and the same rows as a
multiset. Double precision values are compared to 12 significant digits (an engine may add in
another order); every other value exactly, numerics by their text (`2.50` is not `2.5`). A model
that DVT refuses with DVT104 passes (a refusal is allowed, a different answer is not); when
PostgreSQL raises an error for the SQL, DVT must fail too.

Every case is one table model of one project; all of them run in one `dvt run` per placement.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from tests import forked

FLOAT8 = "double precision"
#: Where the oracle writes its answers, in the target database.
ORACLE_OUT = "oracle_out"
#: DVT104 is the planner's refusal ("cannot be federated"), which is allowed. DVT's federated
#: runner also wraps any engine or driver exception raised while it computes in a DVT104 error
#: whose message says the model "failed while reading ..."; that is a failure, not a refusal.
REFUSAL_CODE = "DVT104"
ENGINE_FAILURE = "failed while reading"
#: SQLSTATE classes of errors that belong to the data (division by zero, a scalar subquery
#: returning several rows), not to the SQL text.
RUNTIME_ERROR_CLASSES = ("21", "22")


@dataclass(frozen=True)
class Case:
    """One query: `sql` is PostgreSQL SQL whose inputs are written `{table}`."""

    name: str
    sql: str
    family: str = ""

    def render(self, relation: dict[str, str]) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: relation[m.group(1)], self.sql)


@dataclass
class Ties:
    """A LIMIT that cuts through rows equal in its ORDER BY, so PostgreSQL's answer is not
    unique: any `size` rows holding every row ranked before the cut, the rest from the rows
    tied at it, are an answer PostgreSQL may give."""

    before: list[tuple[Any, ...]]
    tied: list[tuple[Any, ...]]
    size: int


@dataclass
class Answer:
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    #: The error PostgreSQL raised, or DVT's message when the model failed.
    error: str | None = None
    sqlstate: str | None = None
    ties: Ties | None = None


@dataclass
class Outcome:
    case: Case
    placement: str
    #: "match", "refused" (DVT104), "both failed", or "differ".
    verdict: str
    detail: str = ""
    dvt_placement: str | None = None
    #: "federation" or "pushdown", from run_results.json.
    path: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.verdict != "differ"


# Placements ----------------------------------------------------------------------------------


@cache
def placements() -> tuple[str | None, ...]:
    """`--placement` values to run with, or one run without the flag while it does not exist."""
    shown = forked.run("dvt", ["run", "--help"], cwd=Path.cwd(), timeout=120)
    return ("target", "engine", "auto") if "--placement" in shown.stdout else (None,)


@dataclass
class Run:
    placement: str | None
    seconds: float
    #: model name -> run_results.json entry.
    results: dict[str, dict[str, Any]]
    log_tail: str


def run_dvt(root: Path, placement: str | None, *args: str, timeout: float = 1200) -> Run:
    """`dvt run` as a process of its own: an engine crash must not take the test run with it."""
    command = [
        "run",
        "--project-dir",
        str(root),
        "--profiles-dir",
        str(root),
        *args,
    ]
    if placement:
        command += ["--placement", placement]
    artifact = root / "target" / "run_results.json"
    artifact.unlink(missing_ok=True)
    started = time.perf_counter()
    done = forked.run("dvt", command, cwd=root, timeout=timeout)
    seconds = time.perf_counter() - started
    if not artifact.exists():
        raise AssertionError(
            f"dvt run {' '.join(args)} wrote no run_results.json (exit {done.returncode}):\n"
            + (done.stdout + done.stderr)[-4000:]
        )
    results = {
        r["unique_id"].rsplit(".", 1)[-1]: r for r in json.loads(artifact.read_text())["results"]
    }
    return Run(placement, seconds, results, done.stdout[-4000:])


# Reading answers from PostgreSQL ------------------------------------------------------------


def relation_answer(cur: Any, schema: str, name: str) -> Answer:
    cur.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
        "join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped "
        "order by a.attnum",
        (schema, name),
    )
    columns = [(str(n), str(t)) for n, t in cur.fetchall()]
    cur.execute(f'select * from "{schema}"."{name}"')
    return Answer(columns, cur.fetchall())


def oracle_answers(dsn: str, cases: Sequence[Case], relation: dict[str, str]) -> dict[str, Answer]:
    """Each case's SQL run by PostgreSQL over the oracle copies, written as dbt writes a table
    model (`create table ... as (sql)`), so result types come from the same statement."""
    import psycopg2

    answers: dict[str, Answer] = {}
    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"drop schema if exists {ORACLE_OUT} cascade; create schema {ORACLE_OUT}")
            for case in cases:
                try:
                    cur.execute(
                        f'create table {ORACLE_OUT}."{case.name}" as (\n{case.render(relation)}\n)'
                    )
                except psycopg2.Error as exc:
                    answers[case.name] = Answer(
                        error=str(exc).strip(), sqlstate=exc.pgcode or "?????"
                    )
                    continue
                answers[case.name] = relation_answer(cur, ORACLE_OUT, case.name)
    finally:
        conn.close()
    return answers


def model_answers(dsn: str, schema: str, run: Run, cases: Sequence[Case]) -> dict[str, Answer]:
    import psycopg2

    answers: dict[str, Answer] = {}
    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            for case in cases:
                result = run.results.get(case.name)
                if result is None:
                    answers[case.name] = Answer(error="not run (missing from run_results.json)")
                elif result["status"] != "success":
                    answers[case.name] = Answer(error=result.get("message") or result["status"])
                else:
                    answers[case.name] = relation_answer(cur, schema, case.name)
    finally:
        conn.close()
    return answers


# Comparing ---------------------------------------------------------------------------------


def normalise(value: Any, column_type: str) -> Any:
    """Hashable values to compare: numerics by their text, double precision to 12 digits."""
    if value is None:
        return None
    if column_type == FLOAT8 and isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return value if math.isinf(value) else float(f"{value:.12g}")
    if isinstance(value, Decimal):
        return ("numeric", str(value))
    if isinstance(value, list):
        return tuple(normalise(v, "") for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def _rows(answer: Answer) -> list[tuple[Any, ...]]:
    types = [t for _, t in answer.columns]
    return [tuple(normalise(v, t) for v, t in zip(row, types, strict=False)) for row in answer.rows]


def _close_enough(expected: list[tuple[Any, ...]], got: list[tuple[Any, ...]]) -> bool:
    """Rows equal except floats a rounding step apart at the 12th digit."""
    if len(expected) != len(got):
        return False

    def key(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple((v is None, f"{v:.8g}" if isinstance(v, float) else repr(v)) for v in row)

    for left, right in zip(sorted(expected, key=key), sorted(got, key=key), strict=True):
        for a, b in zip(left, right, strict=True):
            if isinstance(a, float) and isinstance(b, float):
                if not math.isclose(a, b, rel_tol=1e-11, abs_tol=1e-300):
                    return False
            elif a != b:
                return False
    return True


def compare(case: Case, placement: str, expected: Answer, got: Answer, run: Run) -> Outcome:
    result = run.results.get(case.name, {})
    dvt = (result.get("adapter_response") or {}).get("dvt") or {}
    label = placement or "default"

    def outcome(verdict: str, detail: str = "") -> Outcome:
        seconds = float(result.get("execution_time") or 0.0)
        return Outcome(case, label, verdict, detail, dvt.get("placement"), dvt.get("path"), seconds)

    if expected.error is not None:
        if got.error is not None:
            return outcome("both failed", got.error)
        return outcome(
            "differ",
            f"PostgreSQL raises: {_first_line(expected.error)}\n"
            f"DVT succeeded with {len(got.rows)} rows",
        )
    if got.error is not None:
        if is_refusal(got.error):
            return outcome("refused", got.error)
        return outcome("differ", f"DVT failed: {_shorten(got.error, 900)}")
    problems = []
    if expected.columns != got.columns:
        problems.append(
            f"columns: PostgreSQL {_columns(expected.columns)}\n"
            f"         DVT        {_columns(got.columns)}"
        )
    want, have = _rows(expected), _rows(got)
    if (
        Counter(want) != Counter(have)
        and not _close_enough(want, have)
        and not _within_ties(expected, have)
    ):
        if _as_numbers(want) == _as_numbers(have):
            problems.append(
                f"rows: the same {len(want)} rows when numbers are compared as numbers "
                "(numeric scale or type differs)"
            )
        else:
            problems.append(_row_diff(want, have))
    if problems:
        return outcome("differ", "\n".join(problems))
    return outcome("match")


def is_refusal(message: str) -> bool:
    return REFUSAL_CODE in message and ENGINE_FAILURE not in message


def _columns(columns: list[tuple[str, str]]) -> str:
    return "(" + ", ".join(f"{n} {t}" for n, t in columns) + ")"


def _within_ties(expected: Answer, have: list[tuple[Any, ...]]) -> bool:
    ties = expected.ties
    if ties is None or len(have) != ties.size:
        return False
    before = Counter(_rows(Answer(expected.columns, ties.before)))
    tied = Counter(_rows(Answer(expected.columns, ties.tied)))
    got = Counter(have)
    return not (before - got) and not ((got - before) - tied)


def _as_numbers(rows: list[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    """Rows with every number as a float of 12 digits: tells a type-only difference apart."""

    def number(v: Any) -> Any:
        if isinstance(v, tuple) and v[:1] == ("numeric",):
            v = float(v[1])
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(f"{float(v):.12g}")
        return v

    return Counter(tuple(number(v) for v in row) for row in rows)


def _row_diff(want: list[tuple[Any, ...]], have: list[tuple[Any, ...]], shown: int = 6) -> str:
    missing = list((Counter(want) - Counter(have)).elements())
    extra = list((Counter(have) - Counter(want)).elements())
    lines = [
        f"rows: PostgreSQL {len(want)}, DVT {len(have)}; "
        f"{len(missing)} only in PostgreSQL's answer, {len(extra)} only in DVT's"
    ]
    for label, rows in (("only PostgreSQL:", missing), ("only DVT:       ", extra)):
        for row in sorted(rows, key=repr)[:shown]:
            lines.append(f"  {label} {_row_text(row)}")
        if len(rows) > shown:
            lines.append(f"  {label} ... {len(rows) - shown} more")
    return "\n".join(lines)


def _row_text(row: tuple[Any, ...]) -> str:
    return "(" + ", ".join(_value_text(v) for v in row) + ")"


def _value_text(value: Any) -> str:
    if isinstance(value, tuple) and value[:1] == ("numeric",):
        return str(value[1])
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.timedelta)):
        return str(value)
    return repr(value)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Running a suite -----------------------------------------------------------------------------


@dataclass
class Suite:
    """A project of cases over the oracle: run once per placement and compare."""

    root: Path
    dsn: str
    model_schema: str
    cases: list[Case]
    #: table placeholder -> the oracle's relation for it.
    oracle_relations: dict[str, str]
    #: PostgreSQL's answers; computed by `run()` unless given.
    expected: dict[str, Answer] = field(default_factory=dict)
    #: Says where each `{table}` of the cases' SQL lives, at the top of the report.
    legend: str = ""
    #: Queries left out because PostgreSQL itself cannot run them: name -> its error.
    excluded: dict[str, str] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)

    def run(self, *args: str) -> Suite:
        if not self.expected:
            self.expected = oracle_answers(self.dsn, self.cases, self.oracle_relations)
        for placement in placements():
            run = run_dvt(self.root, placement, *args)
            self.runs.append(run)
            got = model_answers(self.dsn, self.model_schema, run, self.cases)
            for case in self.cases:
                self.outcomes.append(
                    compare(case, placement or "", self.expected[case.name], got[case.name], run)
                )
        return self

    def invalid_sql(self) -> list[Case]:
        """Cases whose SQL PostgreSQL rejects as SQL (not because of the data): generator bugs."""
        return [
            c
            for c in self.cases
            if self.expected[c.name].error is not None
            and not (self.expected[c.name].sqlstate or "").startswith(RUNTIME_ERROR_CLASSES)
        ]

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def summary(self) -> str:
        counts = Counter((o.placement, o.verdict) for o in self.outcomes)
        lines = []
        for run in self.runs:
            label = run.placement or "default"
            verdicts = ", ".join(
                f"{counts[(label, v)]} {v}" for v in ("match", "refused", "both failed", "differ")
            )
            federated = sum(
                1 for o in self.outcomes if o.placement == label and o.path == "federation"
            )
            lines.append(
                f"placement {label}: {len(self.cases)} cases ({federated} federated) "
                f"in {run.seconds:.1f}s: {verdicts}"
            )
        return "\n".join(lines)

    def report(self, limit: int = 200) -> str:
        """Every differing case: its SQL, what PostgreSQL gives and what DVT gave."""
        parts = [self.summary(), *([self.legend] if self.legend else [])]
        for name, error in self.excluded.items():
            parts.append(f"excluded {name}: PostgreSQL cannot run it: {_first_line(error)}")
        for outcome in self.failures()[:limit]:
            where = f", placed on {outcome.dvt_placement}" if outcome.dvt_placement else ""
            where += f", {outcome.path}" if outcome.path else ""
            parts.append(
                f"\n--- {outcome.case.name} [{outcome.case.family}] placement "
                f"{outcome.placement}{where}\n{outcome.case.sql.strip()}\n{outcome.detail}"
            )
        if len(self.failures()) > limit:
            parts.append(f"\n... {len(self.failures()) - limit} more differing cases")
        return "\n".join(parts)

    def refusals(self) -> Iterable[Outcome]:
        return (o for o in self.outcomes if o.verdict == "refused")

    def save(self, name: str, folder: Path) -> None:
        """The report as `<name>.txt` and every outcome as `<name>.json`, in `folder`, and also
        in $DVT_CONFORMANCE_REPORTS when it is set (pytest prunes its temporary folders)."""
        folders = [folder]
        if os.environ.get("DVT_CONFORMANCE_REPORTS"):
            folders.append(Path(os.environ["DVT_CONFORMANCE_REPORTS"]))
        for place in folders:
            place.mkdir(parents=True, exist_ok=True)
            (place / f"{name}.txt").write_text(self.report(limit=10_000) + "\n")
            self.write_json(place / f"{name}.json")

    def write_json(self, path: Path) -> None:
        path.write_text(
            json.dumps(
                [
                    {
                        "case": o.case.name,
                        "family": o.case.family,
                        "placement": o.placement,
                        "dvt_placement": o.dvt_placement,
                        "path": o.path,
                        "seconds": round(o.seconds, 3),
                        "verdict": o.verdict,
                        "sql": o.case.sql,
                        "detail": o.detail,
                    }
                    for o in self.outcomes
                ],
                indent=1,
            )
        )
