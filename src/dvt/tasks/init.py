"""`dvt init`: dbt's init, plus (with `--computes`) a commented computes.yml skeleton."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.flags import get_flags
from dbt.task.init import InitTask
from dbt_common.events.functions import fire_event
from dbt_common.events.types import PrintEvent

from dvt.config.computes import COMPUTES_FILE

SKELETON = """\
# computes.yml: the engines DVT uses for federated models (models whose inputs span targets).
# Two computes exist without this file: `duckdb` (embedded, the default) and `spark` (local[*]).
# Pick one per model with `config(compute='...')`, or for a run with `--compute NAME`.
{profile}:
  target: local_duck                 # the default compute
  computes:
    local_duck:
      type: duckdb
      memory_limit: 4GB              # beyond this DuckDB spills to temp_directory
      threads: 4
      temp_directory: /tmp/dvt
    # cluster:
    #   type: spark
    #   master: "spark://10.0.0.5:7077"
    #   config: {{spark.executor.memory: 8g}}
"""


class DvtInitTask(InitTask):
    def run(self) -> Any:
        result = super().run()
        if getattr(self.args, "computes", False):
            self.write_computes_skeleton()
        return result

    def write_computes_skeleton(self) -> None:
        path = Path(get_flags().PROFILES_DIR) / COMPUTES_FILE
        if path.exists():
            fire_event(PrintEvent(msg=f"{path} exists; left as it is."))
            return
        profile = (
            self.args.profile
            or self.args.project_name
            or self.get_profile_name_from_current_project()
        )
        path.write_text(SKELETON.format(profile=profile))
        fire_event(PrintEvent(msg=f"Wrote {path}: compute engines for federated models."))
