"""The capability registry: every codec's spec, readable without building the codec.

A spec says what a codec is and can do (family, quality range, learned, progressive, ROI, file
suffix), so the CLI, the viewer and the benchmark list codecs and choose defaults from specs
alone: `gic codecs` never imports torch nor loads weights, and no front end names a codec family.
The codec itself is built only by `create`, from the spec's factory (an import path, so a learned
family's torch code loads on first use).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Union

from .errors import CodecError

if TYPE_CHECKING:  # the interface module imports numpy only; still, listing specs needs neither
    from .base import Codec

#: A factory: a callable taking keyword options (device='cpu', ...), or "package.module:attr".
Factory = Union[Callable[..., "Codec"], str]


@dataclass(frozen=True)
class CodecSpec:
    """What front ends may know about a codec before (and without) creating it."""

    name: str
    family: str  # the package that implements it: "classical", "downscaled", a learned family...
    description: str
    quality_range: tuple[int, int]
    default_quality: int
    extension: str  # suffix its bytes are stored under
    factory: Factory = field(repr=False, compare=False)
    learned: bool = False  # runs a neural network (weights, optional GPU)
    progressive: bool = False  # decode yields several layers, coarse to fine
    roi: bool = False  # encode takes a region-of-interest mask
    #: Order in which front ends suggest codecs (lower first; ties keep registration order).
    rank: int = 100
    #: The familiar format others are shown against by default (the viewer's compare tab: JPEG).
    baseline: bool = False
    #: Module providing `add_arguments(parser)` and `run(args)` for `gic train`, if the family trains.
    trainer: str | None = None
    #: What each quality means, lowest first, where a number alone says little (UIGC: the share
    #: of tokens dropped); front ends show it beside the quality. Empty: nothing to add.
    quality_labels: tuple[str, ...] = ()

    @classmethod
    def of(cls, codec: type["Codec"], family: str, factory: Factory | None = None, **extra) -> "CodecSpec":
        """The spec a Codec class declares in its attributes (nothing is built); `extra` sets the
        fields a class does not carry (learned, rank, trainer) or overrides them."""
        fields = dict(name=codec.name, family=family, description=codec.description,
                      quality_range=tuple(codec.quality_range), default_quality=codec.default_quality,
                      extension=codec.extension, factory=codec if factory is None else factory,
                      progressive=codec.progressive, roi=codec.supports_roi)
        return cls(**{**fields, **extra})

    def as_dict(self) -> dict:
        """Plain JSON-able values (what `gic codecs --json` prints)."""
        return {"name": self.name, "family": self.family, "description": self.description,
                "quality_range": list(self.quality_range), "default_quality": self.default_quality,
                "learned": self.learned, "progressive": self.progressive, "roi": self.roi,
                "extension": self.extension, "quality_labels": list(self.quality_labels)}


_SPECS: dict[str, CodecSpec] = {}
#: Recognisers of a family's own wrapped files: bytes -> the codec that decodes them, or None.
_READERS: list[Callable[[bytes], "Codec | None"]] = []
#: Namers of standard image files: bytes -> the registered codec that writes that format, or None.
_IDENTIFIERS: list[Callable[[bytes], "str | None"]] = []


def register(spec: CodecSpec) -> None:
    """Register (or replace) a codec spec under its name."""
    lo, hi = spec.quality_range
    if not (lo < hi and lo <= spec.default_quality <= hi):
        raise CodecError(f"codec {spec.name!r}: default quality outside its range")
    _SPECS[spec.name] = spec


def unregister(name: str) -> None:
    """Forget a codec (tests register doubles and remove them again)."""
    _SPECS.pop(name, None)


def register_reader(reader: Callable[[bytes], "Codec | None"]) -> None:
    """Let `gic.codecs.opening` recognise a family's own file format (not .gic, not a plain image).

    The codec a reader returns decodes the bytes and also has `describe_file(data) -> str`,
    `stored_image(data) -> bytes` (the standard image file inside) and `image_size(data) -> (w, h)`
    (the decoded size, from headers only), which `gic info` shows without decoding pixels.
    """
    if reader not in _READERS:
        _READERS.append(reader)


def register_identifier(identify: Callable[[bytes], "str | None"]) -> None:
    """Let `gic info` name the codec of a standard image file (JPEG -> "jpeg")."""
    if identify not in _IDENTIFIERS:
        _IDENTIFIERS.append(identify)


def reader_for(data: bytes) -> "Codec | None":
    """The codec a family's reader says decodes `data`, or None."""
    _load_builtins()
    for read in _READERS:
        codec = read(data)
        if codec is not None:
            return codec
    return None


def identify(data: bytes) -> str | None:
    """The registered codec whose standard format `data` is in, or None."""
    _load_builtins()
    for name in (f(data) for f in _IDENTIFIERS):
        if name:
            return name
    return None


def _load_builtins() -> None:
    # Imported lazily: `builtin` imports the family packages, which register cheap specs only.
    from . import builtin  # noqa: F401  (registers on import)


def specs() -> list[CodecSpec]:
    """Every registered spec, in registration order."""
    _load_builtins()
    return list(_SPECS.values())


def names() -> list[str]:
    """Registered codec names, in registration order."""
    return [s.name for s in specs()]


def spec(name: str) -> CodecSpec:
    """The spec of `name`; CodecError naming the known codecs if there is none."""
    _load_builtins()
    try:
        return _SPECS[name]
    except KeyError:
        raise CodecError(f"unknown codec {name!r}; known: {', '.join(_SPECS)}") from None


def suggested(*, learned: bool | None = None) -> list[CodecSpec]:
    """Specs in the order front ends offer them (by rank), optionally only (non-)learned ones."""
    found = [s for s in specs() if learned is None or s.learned == learned]
    return sorted(found, key=lambda s: s.rank)  # sorted() is stable: registration order breaks ties


def default_name() -> str:
    """The codec used when none is named: the best-ranked one (a learned codec when one is installed)."""
    return suggested()[0].name


def reference_name() -> str:
    """The codec others are measured against (BD-rate anchor): the best-ranked non-learned one."""
    found = suggested(learned=False)
    return (found or suggested())[0].name


def _resolve(factory: Factory) -> Callable[..., "Codec"]:
    if callable(factory):
        return factory
    module, _, attr = factory.partition(":")
    return getattr(importlib.import_module(module), attr)


def create(name: str, **options) -> "Codec":
    """Instantiate a codec by name (options such as device='cuda' go to the factory)."""
    return _resolve(spec(name).factory)(**options)
