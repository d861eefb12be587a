"""The token prior's shape and window geometry, shared by the float network (`prior.py`, torch)
and its integer inference (`fixed.py`, numpy only: a decode never needs torch)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .schedule import NUM_STEPS


@dataclass(frozen=True)
class PriorConfig:
    vocab: int = 256  # token values 0..vocab-1; `vocab` itself is MASK
    dim: int = 128
    depth: int = 5
    heads: int = 4
    mlp: int = 2
    window: int = 8
    steps: int = NUM_STEPS + 1  # the schedule's steps and FILL

    def as_dict(self) -> dict:
        return asdict(self)


def window_offset(block: int, window: int) -> int:
    """Alternate blocks see windows shifted by half a window (cross-window context)."""
    return (block % 2) * (window // 2)


def pad_amounts(size: int, offset: int, window: int) -> tuple[int, int]:
    """(before, after) padding so that `offset` + size + after is a multiple of the window."""
    total = offset + size
    return offset, (-total) % window
