"""Names → codec factories, so the CLI, the app and the benchmark list the same set."""
from __future__ import annotations

from typing import Callable

from .base import Codec
from .errors import CodecError

_FACTORIES: dict[str, Callable[..., Codec]] = {}
_DESCRIPTIONS: dict[str, str] = {}


def register(name: str, factory: Callable[..., Codec], description: str = "") -> None:
    """Register a codec factory; factories take keyword options such as device='cpu'."""
    _FACTORIES[name] = factory
    _DESCRIPTIONS[name] = description


def _load_builtins() -> None:
    # Imported lazily: registering must not import torch for users who only want JPEG.
    from . import builtin  # noqa: F401  (registers on import)


def names() -> list[str]:
    """Registered codec names, in registration order."""
    _load_builtins()
    return list(_FACTORIES)


def create(name: str, **options) -> Codec:
    """Instantiate a codec by name (options such as device='cuda' go to the factory)."""
    _load_builtins()
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise CodecError(f"unknown codec {name!r}; known: {', '.join(_FACTORIES)}") from None
    return factory(**options)
