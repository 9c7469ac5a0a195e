"""The versions DVT pins, read from its installed distribution's metadata (so pyproject.toml is
the only place they are written), and whether the installed packages satisfy them."""

from __future__ import annotations

import importlib.metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

DISTRIBUTION = "dvt"


def declared(distribution: str, extra: str | None = None) -> list[Requirement]:
    """A distribution's requirements: its dependencies (`extra` None) or those one extra adds."""
    try:
        lines = importlib.metadata.requires(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return []
    requirements = [Requirement(line) for line in lines]
    if extra is None:
        return [bare(r) for r in requirements if _applies(r, "")]
    return [bare(r) for r in requirements if _applies(r, extra) and not _applies(r, "")]


def _applies(requirement: Requirement, extra: str) -> bool:
    marker = requirement.marker
    return marker is None or marker.evaluate({"extra": extra})


def bare(requirement: Requirement) -> Requirement:
    """The requirement without its marker, as pip takes it: `pyspark[connect]<5,>=4`."""
    copy = Requirement(str(requirement))
    copy.marker = None
    return copy


def pinned(name: str, extra: str | None = None) -> Requirement:
    """DVT's requirement on `name` (a dependency, or in `extra`); unversioned when DVT pins none,
    as for a dbt adapter of a type DVT does not ship."""
    wanted = canonicalize_name(name)
    for requirement in declared(DISTRIBUTION, extra):
        if canonicalize_name(requirement.name) == wanted:
            return requirement
    return Requirement(name)


def installed(name: str) -> str | None:
    """The installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def satisfied(requirement: Requirement) -> bool:
    """Whether the installed version is in the requirement's range (extras not checked)."""
    version = installed(requirement.name)
    return version is not None and requirement.specifier.contains(version, prereleases=True)
