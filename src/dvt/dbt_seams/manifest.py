"""The manifest seam: after dbt parses, DVT resolves every node against the profile's targets."""

from __future__ import annotations

import functools
from typing import Any

from dbt.parser import read_files
from dbt.parser.manifest import ManifestLoader

from dvt import invocation
from dvt.exceptions import SeedFileError


class DvtManifestLoader(ManifestLoader):
    """dbt's loader, plus the macros of every adapter type and DVT's resolution."""

    @classmethod
    def get_full_manifest(cls, config: Any, *args: Any, **kwargs: Any) -> Any:
        dvt = invocation.start(config)
        if len(dvt.pool.load_plugins()) > 1:
            # Reload dependencies so the other adapter types' macro packages are parsed too.
            config.dependencies = None
        manifest = super().get_full_manifest(config, *args, **kwargs)
        dvt.attach(manifest)
        return manifest


_dbt_load_seed_source_file = read_files.load_seed_source_file


@functools.wraps(_dbt_load_seed_source_file, assigned=())
def load_seed_source_file(match: Any, project_name: str) -> Any:
    """dbt's, except that a seed that is not UTF-8 gets an error naming the file and line
    (dbt's parser stops on a bare UnicodeDecodeError)."""
    try:
        return _dbt_load_seed_source_file(match, project_name)
    except UnicodeDecodeError as exc:
        line = exc.object.count(b"\n", 0, exc.start) + 1
        raise SeedFileError(match.relative_path, line, "the file is not UTF-8") from exc
