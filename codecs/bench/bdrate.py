"""Bjøntegaard delta rate: how much more (or less) rate a codec needs than an anchor for equal quality.

Follows the piecewise-cubic variant used by current standards work (VCEG-AM91 with PCHIP instead of
a cubic polynomial fit): log-rate is interpolated as a monotone cubic function of the quality metric,
both curves are integrated over the quality interval they share, and the mean log-rate difference is
turned into a percentage. Working on "log-rate as a function of quality" makes the direction of the
metric irrelevant for the integral; it only matters when pruning points that no sensible operating
point would use (a higher rate for a worse quality), which is why callers say which way is better.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy.interpolate import PchipInterpolator

from ..errors import GicError

#: Metrics where a smaller value means a better picture (distances), by the names used in results.
LOWER_IS_BETTER = frozenset({"lpips", "dists", "mse"})


class BDRateError(GicError):
    """The curves cannot be compared (too few points, malformed input)."""


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of `metric` means a better reconstruction."""
    return metric.lower() not in LOWER_IS_BETTER


def rd_front(rates: Sequence[float], values: Sequence[float], *,
             higher_better: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Points sorted by rate, keeping only those that improve on every cheaper point.

    A point that costs more bits than another yet looks worse is never an operating point anyone
    would pick; dropping it makes quality a strictly monotone function of rate, which PCHIP needs.
    Non-finite and non-positive-rate points are dropped too.
    """
    r = np.asarray(rates, dtype=np.float64).ravel()
    v = np.asarray(values, dtype=np.float64).ravel()
    if r.shape != v.shape:
        raise BDRateError(f"{r.size} rates but {v.size} metric values")
    keep = np.isfinite(r) & np.isfinite(v) & (r > 0)
    r, v = r[keep], v[keep]
    if not higher_better:
        v = -v
    order = np.lexsort((-v, r))  # by rate, best quality first among equal rates
    out_r: list[float] = []
    out_v: list[float] = []
    for ri, vi in zip(r[order], v[order]):
        if out_v and vi <= out_v[-1]:
            continue
        if out_r and ri == out_r[-1]:
            continue
        out_r.append(float(ri))
        out_v.append(float(vi))
    res_v = np.array(out_v)
    return np.array(out_r), (res_v if higher_better else -res_v)


def _log_rate_integral(rates: np.ndarray, values: np.ndarray, lo: float, hi: float) -> float:
    """Integral of log(rate) over quality in [lo, hi], interpolating with PCHIP in quality."""
    order = np.argsort(values)
    interp = PchipInterpolator(values[order], np.log(rates[order]), extrapolate=False)
    return float(interp.integrate(lo, hi))


def bd_rate(anchor_rates: Sequence[float], anchor_values: Sequence[float],
            test_rates: Sequence[float], test_values: Sequence[float], *,
            higher_better: bool = True) -> float:
    """Average rate difference of the test curve against the anchor at equal quality, in percent.

    Negative means the test codec needs fewer bits (better). Returns NaN when the two curves share
    no quality interval. Each curve needs at least two usable points (see `rd_front`).
    """
    ar, av = rd_front(anchor_rates, anchor_values, higher_better=higher_better)
    tr, tv = rd_front(test_rates, test_values, higher_better=higher_better)
    for label, r in (("anchor", ar), ("test", tr)):
        if r.size < 2:
            raise BDRateError(f"the {label} curve has {r.size} usable point(s); BD-rate needs 2")
    lo = max(av.min(), tv.min())
    hi = min(av.max(), tv.max())
    if not hi > lo:
        return math.nan
    diff = (_log_rate_integral(tr, tv, lo, hi) - _log_rate_integral(ar, av, lo, hi)) / (hi - lo)
    return (math.exp(diff) - 1.0) * 100.0


def bd_metric(anchor_rates: Sequence[float], anchor_values: Sequence[float],
              test_rates: Sequence[float], test_values: Sequence[float], *,
              higher_better: bool = True) -> float:
    """Average metric difference (test minus anchor) at equal rate, e.g. BD-PSNR in dB.

    Integrated over the shared log-rate interval. NaN when the rate ranges do not overlap.
    """
    ar, av = rd_front(anchor_rates, anchor_values, higher_better=higher_better)
    tr, tv = rd_front(test_rates, test_values, higher_better=higher_better)
    for label, r in (("anchor", ar), ("test", tr)):
        if r.size < 2:
            raise BDRateError(f"the {label} curve has {r.size} usable point(s); BD needs 2")
    la, lt = np.log(ar), np.log(tr)
    lo, hi = max(la.min(), lt.min()), min(la.max(), lt.max())
    if not hi > lo:
        return math.nan
    ia = PchipInterpolator(la, av, extrapolate=False).integrate(lo, hi)
    it = PchipInterpolator(lt, tv, extrapolate=False).integrate(lo, hi)
    return float((it - ia) / (hi - lo))
