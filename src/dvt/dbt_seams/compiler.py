"""The compiler seam: a node written in another dialect than its target's is compiled by dbt,
then transpiled for its target (`runners.dialect`), before dbt writes or runs it."""

from __future__ import annotations

from typing import Any

from dbt.compilation import Compiler
from dbt.contracts.graph.nodes import UnitTestDefinition


class DvtCompiler(Compiler):
    """dbt's compiler; `config(dialect=...)` nodes leave it in their target's dialect."""

    def compile_node(
        self,
        node: Any,
        manifest: Any,
        extra_context: dict[str, Any] | None = None,
        write: bool = True,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        from dvt.runners.dialect import transpiled_sql, written_dialect

        if isinstance(node, UnitTestDefinition):  # dbt hands it back as it is, unwritten
            return node
        compiled = super().compile_node(node, manifest, extra_context, False, *args, **kwargs)
        written_in = written_dialect(compiled)
        if written_in is not None:
            compiled.compiled_code = transpiled_sql(compiled, manifest, written_in)
        if write:
            self._write_node(compiled, *args, **kwargs)
        return compiled
