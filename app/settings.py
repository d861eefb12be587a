"""Settings kept between runs (QSettings), plus the recent-files list.

`GIC_SETTINGS_DIR` points the settings at another folder (tests use a temporary one so they never
touch the user's settings).
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

ORG, APP = "gic", "gic-viewer"
MAX_RECENT = 10


def settings() -> QSettings:
    folder = os.environ.get("GIC_SETTINGS_DIR")
    if folder:
        return QSettings(str(Path(folder) / "gic-viewer.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG, APP)


def recent_files() -> list[str]:
    value = settings().value("recent_files", [])
    if isinstance(value, str):  # QSettings returns a bare string for one-element lists
        value = [value]
    return [str(v) for v in (value or [])]


def add_recent_file(path: str | os.PathLike) -> list[str]:
    p = str(Path(path).resolve())
    files = [p] + [f for f in recent_files() if f != p]
    files = files[:MAX_RECENT]
    s = settings()
    s.setValue("recent_files", files)
    s.sync()
    return files


def clear_recent_files() -> None:
    s = settings()
    s.setValue("recent_files", [])
    s.sync()


def get(key: str, default=None, type_=None):
    s = settings()
    if type_ is None:
        return s.value(key, default)
    value = s.value(key, default)
    try:
        if type_ is bool and isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return type_(value)
    except (TypeError, ValueError):
        return default


def put(key: str, value) -> None:
    s = settings()
    s.setValue(key, value)
    s.sync()
