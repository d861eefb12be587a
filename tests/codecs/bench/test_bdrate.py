"""BD-rate on synthetic curves whose answer is known in closed form."""
import math

import numpy as np
import pytest

from gic.codecs.bench.bdrate import BDRateError, bd_metric, bd_rate, rd_front

RATES = np.array([0.05, 0.1, 0.2, 0.4, 0.8, 1.6])


def psnr_like(r):
    return 30 + 4 * np.log2(r / 0.05) + 0.3 * np.log2(r / 0.05) ** 2  # curved, increasing


def lpips_like(r):
    return 0.5 * np.exp(-1.3 * np.log2(r / 0.025) ** 0.8)  # curved, decreasing


@pytest.mark.parametrize("factor, expected", [(0.5, -50.0), (2.0, 100.0), (1.0, 0.0), (0.8, -20.0)])
def test_constant_rate_factor_higher_is_better(factor, expected):
    # Same quality at `factor` times the rate, at every point: BD-rate is exactly factor - 1.
    got = bd_rate(RATES, psnr_like(RATES), RATES * factor, psnr_like(RATES))
    assert got == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("factor, expected", [(0.5, -50.0), (2.0, 100.0)])
def test_constant_rate_factor_lower_is_better(factor, expected):
    # LPIPS falls with rate; the sign of the answer must still say "test needs fewer bits".
    got = bd_rate(RATES, lpips_like(RATES), RATES * factor, lpips_like(RATES), higher_better=False)
    assert got == pytest.approx(expected, abs=1e-9)


def test_partial_overlap_known_answer():
    # D = 10*log10(R) + c: the test curve is 3 dB better, i.e. it reaches the same D with
    # log10(R) smaller by 0.3, on the part of the quality axis both cover.
    ra = np.array([0.1, 0.2, 0.4, 0.8])
    rt = np.array([0.3, 0.6, 1.2, 2.4])
    got = bd_rate(ra, 10 * np.log10(ra) + 40, rt, 10 * np.log10(rt) + 43)
    assert got == pytest.approx((10 ** -0.3 - 1) * 100, abs=1e-9)
    # BD-PSNR over the shared rate interval is the 3 dB offset.
    assert bd_metric(ra, 10 * np.log10(ra) + 40, rt, 10 * np.log10(rt) + 43) == pytest.approx(3.0)


def test_worse_codec_positive_and_antisymmetric_in_log():
    a = bd_rate(RATES, psnr_like(RATES), RATES * 1.37, psnr_like(RATES) - 0.2)
    b = bd_rate(RATES * 1.37, psnr_like(RATES) - 0.2, RATES, psnr_like(RATES))
    assert a > 37.0
    assert math.log1p(a / 100) == pytest.approx(-math.log1p(b / 100), rel=1e-9)


def test_point_order_does_not_matter():
    perm = np.array([3, 0, 5, 1, 4, 2])
    got = bd_rate(RATES[perm], psnr_like(RATES)[perm], RATES * 0.5, psnr_like(RATES))
    assert got == pytest.approx(-50.0, abs=1e-9)


def test_no_overlap_is_nan():
    assert math.isnan(bd_rate([0.1, 0.2], [30, 32], [0.1, 0.2], [40, 42]))


def test_too_few_points_raises():
    with pytest.raises(BDRateError, match="usable point"):
        bd_rate([0.1], [30], [0.1, 0.2], [30, 32])


def test_rd_front_drops_dominated_and_invalid_points():
    r, v = rd_front([0.4, 0.1, 0.2, 0.3, 0.5, -1, 0.6], [33, 30, 32, 31.5, np.nan, 40, 35])
    assert r.tolist() == [0.1, 0.2, 0.4, 0.6]
    assert v.tolist() == [30, 32, 33, 35]
    r, v = rd_front([0.1, 0.2, 0.3], [0.5, 0.3, 0.35], higher_better=False)
    assert r.tolist() == [0.1, 0.2] and v.tolist() == [0.5, 0.3]


def test_non_monotone_curve_still_gives_known_answer():
    # A dominated extra point on the test curve (more bits, worse quality) must not change the result.
    rt = np.append(RATES * 0.5, 0.3)
    vt = np.append(psnr_like(RATES), 30.5)
    assert bd_rate(RATES, psnr_like(RATES), rt, vt) == pytest.approx(-50.0, abs=1e-9)
