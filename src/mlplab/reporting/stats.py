"""Mean, spread and a 95 % interval of one metric over runs that differ only in seed.

`std` is the sample standard deviation (n - 1 in the denominator: numpy's `ddof=1`, pandas'
default) and the interval is Student's t interval of the mean, mean ± t(0.975, n - 1) · std /
sqrt(n): with 5 seeds t is 2.776, so the interval is ± 1.24 std. One run has no spread: std and
interval are NaN and print as "n=1".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from scipy import stats

LEVEL = 0.95


@dataclass(frozen=True)
class Spread:
    n: int
    mean: float
    std: float  # sample standard deviation (ddof=1); NaN for one run
    low: float  # the 95 % t interval of the mean; NaN for one run
    high: float

    def text(self, digits: int = 4) -> str:
        """`0.9120 ± 0.0120` (mean ± std), or the mean alone for one run."""
        if self.n < 2:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f}"

    def interval(self, digits: int = 4) -> str:
        """`[0.8971, 0.9269]`: the 95 % interval of the mean; empty for one run."""
        if self.n < 2:
            return ""
        return f"[{self.low:.{digits}f}, {self.high:.{digits}f}]"


def spread(values: Iterable[float | None]) -> Spread:
    """The spread of the finite values given (a diverged run's NaN, a missing metric's None
    are left out of n)."""
    kept = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(kept)
    if n == 0:
        return Spread(0, math.nan, math.nan, math.nan, math.nan)
    mean = math.fsum(kept) / n
    if n == 1:
        return Spread(1, mean, math.nan, math.nan, math.nan)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in kept) / (n - 1))
    half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1)) * std / math.sqrt(n)
    return Spread(n, mean, std, mean - half, mean + half)
