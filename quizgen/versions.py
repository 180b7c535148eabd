"""The Python and library versions a cached result depends on: part of every cache key."""

from __future__ import annotations

import platform
from importlib import metadata


def library_versions(distributions: tuple[str, ...]) -> dict[str, str]:
    """{"python": its version, distribution name: installed version or "missing"}."""
    versions = {"python": platform.python_version()}
    for name in distributions:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions
