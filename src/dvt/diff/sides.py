"""What `dvt diff A B` is told to compare: `A` and `B` as the user wrote them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dvt.exceptions import DiffError

SOURCE_PREFIX = "source:"
FORMS = (
    "a model, seed or snapshot (`customers`, or `customers@duck` for its relation on target "
    "duck), a source (`source:raw.orders`) or a relation on a target (`pg:analytics.orders`)"
)


@dataclass(frozen=True)
class SideName:
    """One side as written: a node (on its own target unless `target`), a source, or a
    relation (`[database.]schema.name`, or a bare name in the target's schema) on `target`."""

    form: Literal["node", "source", "relation"]
    name: str
    target: str | None = None
    written: str = ""

    @property
    def parts(self) -> list[str]:
        return self.name.split(".")


def parse(written: str) -> SideName:
    """`customers`, `customers@duck`, `source:raw.orders`, `pg:analytics.orders`."""
    text = written.strip()
    if text.startswith(SOURCE_PREFIX):
        name = text[len(SOURCE_PREFIX) :]
        if name.count(".") != 1 or not all(name.split(".")):
            raise DiffError(f"{written!r}: a source is `source:<source name>.<table name>`.")
        return SideName("source", name, written=written)
    if ":" in text:
        target, _, name = text.partition(":")
        if not target or not name or not all(name.split(".")) or name.count(".") > 2:
            raise DiffError(f"{written!r}: a relation is `<target>:[database.]schema.table`.")
        return SideName("relation", name, target, written=written)
    if "@" in text:
        name, _, target = text.partition("@")
        if not name or not target:
            raise DiffError(f"{written!r}: a node on a named target is `<name>@<target>`.")
        return SideName("node", name, target, written=written)
    if not text:
        raise DiffError(f"Nothing to compare: name {FORMS}.")
    return SideName("node", text, written=written)
