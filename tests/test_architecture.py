"""The import rule of docs/architecture.md, enforced: who may import whom.

container/interface -> shared learned parts -> families -> front ends; never backwards, never Qt
in the codec library, never a family from another family or from a front end (front ends decide
from the registry's specs). Read from the source with `ast`, so nothing is imported to check it.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from gic.codecs.builtin import FAMILIES

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {"gic.codecs": REPO / "codecs", "gic.cli": REPO / "cli", "gic.app": REPO / "app"}
#: A family may build on another only where it is a variant of it (documented in the architecture).
VARIANT_OF = {"downscaled": {"classical"}}


def module_name(path: Path) -> str:
    for pkg, root in PACKAGES.items():
        if path.is_relative_to(root):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            return ".".join([pkg, *parts])
    raise ValueError(path)


def imports(path: Path) -> set[str]:
    """Absolute names of every module `path` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(), str(path))
    me = module_name(path).split(".")
    package = me if path.name == "__init__.py" else me[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)  # `from . import progic`
    return out


def sources(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def family_of(name: str) -> str | None:
    for fam in FAMILIES:
        prefix = f"gic.codecs.{fam}"
        if name == prefix or name.startswith(prefix + "."):
            return fam
    return None


CODEC_FILES = sources(REPO / "codecs")
FRONT_ENDS = sources(REPO / "cli") + sources(REPO / "app") + sources(REPO / "codecs" / "bench")


@pytest.mark.parametrize("path", CODEC_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_the_codec_library_never_imports_qt_or_a_front_end(path):
    bad = {m for m in imports(path) if m.split(".")[0] in ("PySide6", "pyqtgraph")
           or m.startswith(("gic.app", "gic.cli"))}
    assert not bad, bad


@pytest.mark.parametrize("path", CODEC_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_families_never_import_each_other_and_shared_parts_import_no_family(path):
    me = module_name(path)
    mine = family_of(me)
    if me == "gic.codecs.builtin":
        return  # the one list of families
    allowed = {mine} | VARIANT_OF.get(mine, set()) if mine else set()
    bad = {m for m in imports(path) if family_of(m) and family_of(m) not in allowed}
    assert not bad, f"{me} imports {bad}"


@pytest.mark.parametrize("path", FRONT_ENDS, ids=lambda p: str(p.relative_to(REPO)))
def test_front_ends_never_import_a_family_by_name(path):
    bad = {m for m in imports(path) if family_of(m)}
    assert not bad, f"{module_name(path)} imports {bad}: decide from gic.codecs.registry specs"


#: The viewer's Qt-free part: its model (what is open, what is compared) and the jobs its workers run.
APP_QT_FREE = sources(REPO / "app" / "model") + [REPO / "app" / "jobs.py", REPO / "app" / "prefetch.py"]
APP_QT_FREE_MAY_IMPORT = ("gic.codecs", "gic.app.model", "gic.app.jobs", "gic.app.prefetch")


@pytest.mark.parametrize("path", APP_QT_FREE, ids=lambda p: str(p.relative_to(REPO)))
def test_the_viewer_model_never_imports_qt_or_the_window(path):
    """The window observes the model, never the other way round (napari's components/ vs _qt/)."""
    bad = {m for m in imports(path) if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph")
           or (m.startswith("gic.app") and not m.startswith(APP_QT_FREE_MAY_IMPORT))}
    assert not bad, f"{module_name(path)} imports {bad}"


#: Why a bound on the viewer's modules: one that grows past it holds several concerns (the window
#: reached 1,043 lines and ~85 methods before it was split into one mixin per concern, #20); a new
#: concern gets a module of its own instead of another screenful in an old one.
APP_MAX_LINES = 450


@pytest.mark.parametrize("path", sources(REPO / "app"), ids=lambda p: str(p.relative_to(REPO)))
def test_viewer_modules_stay_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= APP_MAX_LINES, f"{path.relative_to(REPO)}: {lines} lines > {APP_MAX_LINES}; split it by concern"


def test_the_checker_sees_relative_family_imports(tmp_path):
    """The rule cannot pass vacuously: a relative import of a family is resolved and caught."""
    probe = REPO / "codecs" / "learned" / "codec.py"
    assert "gic.codecs.container" in imports(probe) and "gic.codecs.learned.tiling" in imports(probe)
    assert family_of("gic.codecs.progic.model") == "progic" and family_of("gic.codecs.learned") is None


def test_every_package_folder_is_listed_in_pyproject():
    """A new family's folder must be in `packages`, or a wheel install would lack it."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {module_name(init) for root in PACKAGES.values() for init in root.rglob("__init__.py")
             if "__pycache__" not in init.parts}
    assert found <= listed, sorted(found - listed)
