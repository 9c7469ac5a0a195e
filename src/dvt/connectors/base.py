"""The connector interface, seen from a federated node's session on the DuckDB engine."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import sqlglot.expressions as exp

from dvt.config.targets import TargetSpec
from dvt.planning.models import Extraction, RelationKey

if TYPE_CHECKING:
    from dvt.runners.session import FederationSession


class Connector(ABC):
    """Reads (and, for writable targets, stages) one target's data for the engine."""

    #: SQLGlot dialect of the SQL this connector runs.
    dialect: ClassVar[str]
    #: Whether models and seeds may be written here.
    writable: ClassVar[bool] = True

    def __init__(self, spec: TargetSpec, session: FederationSession) -> None:
        self.spec = spec
        self.session = session

    # -- naming ---------------------------------------------------------------------------

    def table(self, key: RelationKey) -> exp.Table:
        """The relation as this connector's SQL names it."""
        return exp.table_(key.name, db=key.schema, catalog=key.catalog or None, quoted=True)

    def extraction_sql(self, extraction: Extraction, key: RelationKey) -> str:
        """The extraction as this database runs it."""
        return extraction.render(self.table(key), self.dialect)

    def subquery_sql(self, select: exp.Select, key: RelationKey) -> str:
        """A one-input scalar subquery, rewritten to run on this database."""
        query = select.copy()
        for table in query.find_all(exp.Table):
            alias = table.alias_or_name
            renamed = self.table(key)
            renamed.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
            table.replace(renamed)
        return query.sql(dialect=self.dialect)

    # -- data -----------------------------------------------------------------------------

    @abstractmethod
    def columns(self, key: RelationKey) -> Sequence[tuple[str, str]]:
        """(name, type) of each column of a relation, in order."""

    @abstractmethod
    def scalar(self, sql: str) -> Any:
        """Run a one-value query on this database."""

    @abstractmethod
    def stream(self, sql: str) -> Any:
        """Run an extraction (SQL in this connector's dialect) as an Arrow record batch stream."""

    def expose(self, extraction: Extraction, key: RelationKey) -> str:
        """Make the extraction readable in the engine session as `extraction.engine_name`;
        return the SQL sent to this database."""
        sql = self.extraction_sql(extraction, key)
        self.session.register_stream(extraction.engine_name, self.stream(sql))
        return sql

    def stage(self, engine_sql: str, relation: RelationKey) -> int:
        """Write the engine's result into `relation` on this target; return the row count."""
        raise NotImplementedError(f"{type(self).__name__} cannot be written to")

    def drop_stage(self, relation: RelationKey) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot be written to")
