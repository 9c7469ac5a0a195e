"""Every output of the active profile is a target (DESIGN.md section 4).

Outputs with an installed dbt adapter become full targets, read and written through that
adapter. Outputs whose type DVT reads itself (SQLite, MySQL/MariaDB) are *source-only*: a
source may live there, but no model or seed may be written there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dbt.config.profile import Profile, read_profile
from dbt.config.renderer import ProfileRenderer
from dbt.flags import get_flags

from dvt.config.spec import TargetSpec
from dvt.config.yaml_lines import load_yaml_file
from dvt.exceptions import DvtError, TargetUnavailableError, UnknownTargetError, names_hint

PROFILES_FILE = "profiles.yml"

#: Profile keys whose values are secrets, scrubbed from every message DVT writes.
SECRET_KEYS = frozenset(
    {"password", "pass", "token", "private_key", "secret", "access_key", "secret_key"}
)


class ProfilesFileError(DvtError):
    """A profile output DVT cannot use, named by file, line and key."""

    code = "DVT100"


@dataclass(frozen=True)
class ProfileTargets:
    """All outputs of one profile, and which of them is the default target."""

    profile_name: str
    default: str
    specs: Mapping[str, TargetSpec]

    def __contains__(self, name: object) -> bool:
        return name in self.specs

    def __getitem__(self, name: str) -> TargetSpec:
        return self.specs[name]

    @property
    def names(self) -> list[str]:
        return sorted(self.specs)

    def redact(self, text: str) -> str:
        """`text` without any secret of any output (passwords, tokens, keys)."""
        for spec in self.specs.values():
            for key, value in spec.options.items():
                if key in SECRET_KEYS and value and str(value) in text:
                    text = text.replace(str(value), "*****")
        return text

    def require(self, name: str, *, used_by: str) -> TargetSpec:
        """The named target, or DVT100 naming who asked and what exists."""
        if name not in self.specs:
            raise UnknownTargetError(
                f"{used_by} names target {name!r}, which is not an output of profile "
                f"{self.profile_name!r} in profiles.yml. Targets: {names_hint(self.specs)}."
            )
        return self.specs[name]

    def require_writable(self, name: str, *, used_by: str) -> TargetSpec:
        """The named target if DVT can write to it through a dbt adapter."""
        spec = self.require(name, used_by=used_by)
        if spec.source_only:
            writable = [n for n, s in self.specs.items() if not s.source_only]
            raise TargetUnavailableError(
                f"{used_by} is written to target {name!r} of type {spec.type!r}, which DVT can "
                "only read (a source-only connection). Write it to a target with a dbt adapter, "
                f"for example one of: {names_hint(writable)}."
            )
        if not spec.has_dbt_adapter:
            raise TargetUnavailableError(
                f"{used_by} uses target {name!r} of type {spec.type!r}, but no dbt adapter for "
                f"{spec.type!r} is installed. Install it with `pip install dbt-{spec.type}` "
                "(or run `dvt sync`)."
            )
        return spec

    @classmethod
    def load(
        cls, profile_name: str, default_target: str, cli_vars: Mapping[str, Any]
    ) -> ProfileTargets:
        """Read every output of `profile_name` from the profiles.yml dbt itself uses."""
        raw = read_profile(get_flags().PROFILES_DIR).get(profile_name) or {}
        renderer = ProfileRenderer(dict(cli_vars))
        specs: dict[str, TargetSpec] = {}
        for name, output in (raw.get("outputs") or {}).items():
            if not isinstance(output, dict) or not output.get("type"):
                raise _output_error(profile_name, name, output)
            _, data = Profile.render_profile(raw, profile_name, name, renderer)
            spec = TargetSpec(name=name, type=str(data.get("type", "")), options=data)
            _check_required(profile_name, spec)
            specs[name] = spec
        return cls(profile_name=profile_name, default=default_target, specs=specs)


def _check_required(profile_name: str, spec: TargetSpec) -> None:
    """DVT100 for a source-only output without what its connector needs, at load: without it
    the first node reading it failed with a misleading error (no dbt adapter checks it)."""
    if not spec.source_only:
        return
    from dvt import connectors

    required = connectors.for_target(spec).required_option
    if required is None:
        return
    keys, meaning = required
    if any(spec.options.get(key) for key in keys):
        return
    doc = load_yaml_file(os.path.join(get_flags().PROFILES_DIR, PROFILES_FILE), ProfilesFileError)
    raise ProfilesFileError(
        f"{doc.where(profile_name, 'outputs', spec.name)}: the {spec.type} output "
        f"{spec.name!r} has no `{keys[0]}`; set `{keys[0]}:` to {meaning}."
    )


def _output_error(profile_name: str, name: str, output: Any) -> ProfilesFileError:
    """DVT100 for an output dbt would only reject once used: file, line and key named."""
    doc = load_yaml_file(os.path.join(get_flags().PROFILES_DIR, PROFILES_FILE), ProfilesFileError)
    keys = (profile_name, "outputs", name)
    if not isinstance(output, dict):
        return ProfilesFileError(f"{doc.where(*keys)}: an output must be a mapping.")
    return ProfilesFileError(
        f"{doc.where(*keys)}: the output needs `type:`, the dbt adapter it uses "
        "(postgres, duckdb, ...)."
    )
