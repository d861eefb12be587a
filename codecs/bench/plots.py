"""RD curves and the speed chart as PNG, drawn with matplotlib's headless Agg backend.

matplotlib (not a core dependency) is imported only here and only when plotting; it draws the log
axes, legends and tick labels that a field-standard RD plot needs, which hand-drawing with Pillow
would re-implement badly.
"""
from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from .records import BenchError, METRIC_KEYS, write_atomic

LABELS = {"psnr-rgb": "PSNR RGB (dB) ↑", "ms-ssim": "MS-SSIM ↑", "lpips": "LPIPS ↓",
          "dists": "DISTS ↓"}
_VARIANT = re.compile(r"^(.*?)-x(\d+)$")  # "avif-x4": AVIF at a quarter of the resolution


def plotting_available() -> bool:
    """Whether matplotlib can be imported (checked without importing it)."""
    import importlib.util
    return importlib.util.find_spec("matplotlib") is not None


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise BenchError("plots need matplotlib: pip install matplotlib (or pass --no-plots)") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def _style(names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """One colour per base codec, a line style per downscaled variant, so families read together."""
    bases: list[str] = []
    for n in names:
        m = _VARIANT.match(n)
        base = m.group(1) if m else n
        if base not in bases:
            bases.append(base)
    styles = {}
    dashes = ["-", "--", ":", "-."]
    markers = ["o", "s", "^", "D"]
    for n in names:
        m = _VARIANT.match(n)
        base = m.group(1) if m else n
        level = int(math.log2(int(m.group(2)))) if m and int(m.group(2)) > 0 else 0
        styles[n] = {"color": f"C{bases.index(base) % 10}", "linestyle": dashes[level % 4],
                     "marker": markers[level % 4]}
    return styles


def _save(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    write_atomic(path, buf.getvalue())


def plot_rd(curves: Sequence[Mapping[str, Any]], metric: str, path: Path, *, title: str = "",
            emphasis: Sequence[str] = ()) -> bool:
    """Draw bpp (log axis) against one metric for every codec's averaged curve; False if no data."""
    plt = _pyplot()
    key = METRIC_KEYS.get(metric, metric)
    styles = _style([c["name"] for c in curves if not c.get("published")])
    styles.update({c["name"]: {"color": "0.35", "linestyle": (0, (4, 2)), "marker": "x"}
                   for c in curves if c.get("published")})
    fig, ax = plt.subplots(figsize=(7, 4.8))
    drawn = 0
    for c in curves:
        pts = sorted((b, v) for b, v in zip(c["results"]["bpp"], c["results"].get(key, []))
                     if b is not None and v is not None and b > 0)
        if not pts:
            continue
        xs, ys = zip(*pts)
        strong = c["name"] in emphasis  # ours: drawn thicker and on top
        ax.plot(xs, ys, label=c["name"], markersize=5 if strong else 4,
                linewidth=2.6 if strong else 1.4, zorder=3 if strong else 2, **styles[c["name"]])
        drawn += 1
    if drawn:
        ax.set_xscale("log")
        ax.set_xlabel("bits per pixel (log scale)")
        ax.set_ylabel(LABELS.get(key, key))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
        if title:
            ax.set_title(title)
        _save(fig, path)
    plt.close(fig)
    return bool(drawn)


def plot_speed(rows: Sequence[Mapping[str, Any]], path: Path, *, title: str = "") -> bool:
    """Horizontal bars of median encode and decode time per codec (log axis); False if no data."""
    plt = _pyplot()
    ok = [r for r in rows if "error" not in r]
    if not ok:
        return False
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(ok) + 1.4))
    ys = range(len(ok))
    enc = [r["encoding_time"] * 1000 for r in ok]
    dec = [r["decoding_time"] * 1000 for r in ok]
    ax.barh([y - 0.2 for y in ys], enc, height=0.4, label="encode", color="C0")
    ax.barh([y + 0.2 for y in ys], dec, height=0.4, label="decode", color="C1")
    for y, e, d in zip(ys, enc, dec):
        ax.text(e, y - 0.2, f" {e:.0f}", va="center", fontsize=7)
        ax.text(d, y + 0.2, f" {d:.0f}", va="center", fontsize=7)
    ax.set_yticks(list(ys), [f"{r['codec']} ({r['bpp']:.2f} bpp)" for r in ok], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("median time per image (ms, log scale)")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    if title:
        ax.set_title(title, fontsize=10)
    _save(fig, path)
    plt.close(fig)
    return True
