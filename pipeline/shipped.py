"""The presets shipped with Clarity, wherever Clarity is installed.

In a checkout they are ``presets/`` at the top of the repository; a ``pip install`` puts the
same files in the ``pipeline.presets`` package. ``--preset document`` names one of them by
its file name without ``.yaml``.
"""

from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[1] / "presets"


def presets_folder() -> Path:
    """The folder holding the shipped ``*.yaml`` presets."""
    if _CHECKOUT.is_dir():
        return _CHECKOUT
    from importlib.util import find_spec

    spec = find_spec("pipeline.presets")  # a namespace package: its folder is its search location
    if spec is None or not spec.submodule_search_locations:
        return _CHECKOUT
    return Path(next(iter(spec.submodule_search_locations)))


def shipped_names() -> list[str]:
    """Names of the shipped presets (file names without ``.yaml``), sorted."""
    return sorted(p.stem for p in presets_folder().glob("*.yaml"))


def resolve_preset(path: Path) -> Path:
    """``path`` itself when it exists or looks like a file; else the shipped preset of that name."""
    if path.exists() or path.suffix or len(path.parts) != 1:
        return path
    shipped = presets_folder() / f"{path.name}.yaml"
    return shipped if shipped.is_file() else path
