"""Where a federated node is computed: on its target over imports, or in an engine.

`imports` turns a plan's reads of remote inputs into one import per input relation (the model's
SQL names a relation once for all its occurrences). `choose` picks the placement expected to cost
less (DESIGN.md section 6, "Choice"): seconds per million rows read, written and computed on
each side are data of the connectors, beside fixed seconds per read and per placement; the engine
only when the plan proved it means the same.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import sqlglot.expressions as exp

from dvt.exceptions import UnsupportedFederationError
from dvt.planning.models import Extraction, FederationPlan, Source

Placement = Literal["target", "engine"]
#: Seconds per million rows the embedded engine takes to join or aggregate them.
ENGINE_COMPUTE_COST = 0.05
#: Rows an aggregating query is assumed to return, as a share of its largest input.
AGGREGATE_SHARE = 0.01
#: Seconds the engine placement spends before any row moves: the target types the result over
#: empty imports, and the stage is created, loaded and dropped. First measured at 0.35 s (TPC-DS
#: q30 at sf 0.01, before the engine and connections were opened while dbt starts); 0.2 since:
#: `bench/tpcds.py` sf 0.01 B/A 1.31 -> 1.25, sf 0.1 0.48 -> 0.46, every answer the same.
ENGINE_FIXED_SECONDS = 0.2
#: Seconds each read of an input into the engine costs before its rows (a query on its
#: database, a temporary table), and each import into the target (created, analyzed, dropped).
READ_FIXED_SECONDS = 0.02


@dataclass(frozen=True)
class Costs:
    """One database's seconds per million rows, from its connector."""

    read: float
    write: float
    compute: float
    #: The compute cost's factor for a query that reads a CTE more than once.
    reused_cte_factor: float = 1.0
    #: Seconds per million (outer row, inner row) pairs of a correlated subquery.
    correlated: float = 0.0


@dataclass(frozen=True)
class Choice:
    """The placement of one node, why, and the rows each placement would move."""

    placement: Placement
    reason: str
    rows_imported: int | None = None  # on the target: rows copied into it
    rows_engine: int | None = None  # in the engine: rows read into it plus rows written back

    def to_dict(self) -> dict[str, object]:
        return {
            "placement": self.placement,
            "reason": self.reason,
            "rows_imported": self.rows_imported,
            "rows_engine": self.rows_engine,
        }


def imports(plan: FederationPlan, target: str) -> tuple[Extraction, ...]:
    """One extraction per remote input relation, covering every occurrence of it: the columns
    any occurrence uses, and a filter only when every occurrence filters (their disjunction)."""
    by_key: dict[object, list[Extraction]] = {}
    for extraction in plan.remote(target):
        by_key.setdefault(extraction.input.key, []).append(extraction)
    merged = []
    for index, group in enumerate(by_key.values()):
        columns = tuple(dict.fromkeys(c for e in group for c in e.columns))
        predicates: tuple[exp.Expr, ...] = ()
        if all(e.predicates for e in group):
            each = [exp.and_(*[p.copy() for p in e.predicates]) for e in group]
            predicates = (exp.or_(*each) if len(each) > 1 else each[0],)
        limits = [e.limit for e in group]
        limit = max(limits) if all(n is not None for n in limits) else None  # type: ignore[type-var]
        merged.append(
            dataclasses.replace(
                group[0],
                engine_name=f"dvt_import_{index}",
                columns=columns,
                predicates=predicates,
                limit=limit,
                sql="",
            )
        )
    return tuple(merged)


def choose(
    requested: str,
    plan: FederationPlan,
    target: str,
    rows: Mapping[str, int | None],
    costs: Mapping[str, Costs],
    *,
    model: str,
) -> Choice:
    """The placement of one node. `rows`: estimated rows per input unique_id; `costs` per
    target name (the node's target and every input's)."""
    refusal = plan.engine_refusal
    if requested == "engine":
        if refusal:
            raise UnsupportedFederationError(
                f"Model {model!r} is placed in the engine (placement='engine'), where DVT cannot "
                f"prove it means the same as on its target: {refusal}. Use placement 'target' "
                "or 'auto'."
            )
        return Choice("engine", "placement='engine' was asked for")
    if requested == "target":
        return Choice("target", "placement='target' was asked for")
    if refusal:
        return Choice("target", f"the engine cannot be proven the same: {refusal}")
    inputs = {e.input.unique_id: e.input.target for e in plan.extractions}
    if any(rows.get(uid) is None for uid in inputs):
        return Choice("target", "no row estimates for every input")
    known = {uid: int(rows[uid] or 0) for uid in inputs}
    remote = [uid for uid, t in inputs.items() if t != target]
    imported = sum(known[uid] for uid in remote)
    largest = max(known.values(), default=0)
    result = int(largest * AGGREGATE_SHARE) + 1 if plan.aggregates else largest
    here = costs[target]
    blind = plan.reused_ctes and here.reused_cte_factor > 1
    on_target = sum(known[u] * (costs[inputs[u]].read + here.write) for u in remote)
    on_target += sum(known.values()) * here.compute * (here.reused_cte_factor if blind else 1)
    pairs = sum(
        max((_rows(s, known) for s in sub.outer), default=1)
        * sum(_rows(s, known) for s in sub.inner)
        for sub in plan.correlated
    )
    on_target += pairs * here.correlated
    in_engine = sum(known[u] * costs[inputs[u]].read for u in known)
    in_engine += result * here.write + sum(known.values()) * ENGINE_COMPUTE_COST
    in_engine += ENGINE_FIXED_SECONDS * 1e6
    on_target += len(remote) * READ_FIXED_SECONDS * 1e6
    in_engine += len(plan.extractions) * READ_FIXED_SECONDS * 1e6
    moved = imported, sum(known.values()) + result
    why = "; the target joins a CTE read more than once without its statistics" if blind else ""
    if pairs and here.correlated:
        why += "; the target runs a correlated subquery once per outer row"
    if in_engine < on_target:
        reason = (
            f"cheaper in the engine (~{in_engine / 1e6:.2f}s against ~{on_target / 1e6:.2f}s{why})"
        )
        return Choice("engine", reason, *moved)
    reason = f"cheaper on the target (~{on_target / 1e6:.2f}s against ~{in_engine / 1e6:.2f}s{why})"
    return Choice("target", reason, *moved)


def _rows(source: Source, known: Mapping[str, int]) -> int:
    """A correlated subquery side's rows: its largest input's, a share of that if it groups."""
    largest = max((known.get(u, 0) for u in source.inputs), default=0)
    return int(largest * AGGREGATE_SHARE) + 1 if source.aggregated else largest
