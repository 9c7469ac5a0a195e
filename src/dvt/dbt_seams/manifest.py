"""The manifest seam: after dbt parses, DVT resolves every node against the profile's targets."""

from __future__ import annotations

from typing import Any

from dbt.parser.manifest import ManifestLoader

from dvt import invocation


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
