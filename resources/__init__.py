"""Bundled weights, samples and desktop files, located with `path()`."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def path(*parts: str) -> Path:
    """Absolute path of a bundled resource (works for editable and regular installs)."""
    return ROOT.joinpath(*parts)
