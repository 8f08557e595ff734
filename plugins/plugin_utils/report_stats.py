# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report's statistics, in plain Python (no scipy). Runs on the controller.

The death chance p of one spin is estimated from the fleet's total deaths D over
its total spins N. How confident that estimate is depends on how the spinning
stopped:

- Every host stopped at a death (the default, stop at the first death, or at its
  max_deaths-th): the number of spins N needed for D deaths is negative
  binomial. The exact interval, from the relation between the negative binomial
  and the beta distribution, is [B(a/2; D, N-D+1), B(1-a/2; D, N-D)], where
  B(q; x, y) is the q-quantile of Beta(x, y).
- Some hosts spun their whole count without stopping at a death (count reached,
  or stop at death turned off): the spins are, at least in part, a fixed number
  of trials, and the Clopper-Pearson interval [B(a/2; D, N-D+1), B(1-a/2; D+1, N-D)]
  holds; it is conservative for the hosts that did stop at a death.

The Wilson or normal intervals assume a fixed N, which stopping at a death
breaks. Both intervals share their lower bound; the negative binomial's upper
bound is the lower of the two.
"""

from __future__ import annotations

import math

NEGATIVE_BINOMIAL = "negative-binomial"
CLOPPER_PEARSON = "clopper-pearson"


def _beta_continued_fraction(a, b, x):
    """Continued fraction of the regularised incomplete beta (modified Lentz)."""
    tiny = 1e-300
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 1000):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
                          -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            step = c * d
            result *= step
        if abs(step - 1.0) < 1e-15:
            break
    return result


def beta_cdf(x, a, b):
    """I_x(a, b): the probability that a Beta(a, b) variable is at most x (a, b > 0)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def beta_quantile(q, a, b):
    """The q-quantile of Beta(a, b), by bisection on beta_cdf (monotone, so always converges)."""
    if q <= 0.0:
        return 0.0
    if q >= 1.0:
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(80):  # 2**-80: far below a float's precision near the answer
        middle = (low + high) / 2.0
        if beta_cdf(middle, a, b) < q:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0


def clopper_pearson(deaths, spins, level=0.95):
    """Exact interval of p for `deaths` in a fixed number of `spins`."""
    alpha = 1.0 - level
    low = 0.0 if deaths == 0 else beta_quantile(alpha / 2.0, deaths, spins - deaths + 1)
    high = 1.0 if deaths == spins else beta_quantile(1.0 - alpha / 2.0, deaths + 1, spins - deaths)
    return low, high


def negative_binomial_interval(deaths, spins, level=0.95):
    """Exact interval of p when spinning stopped at the `deaths`-th death, after `spins` spins.

    P(N <= n) = P(Binomial(n, p) >= D) = I_p(D, n-D+1) gives the lower bound,
    P(N >= n) = P(Binomial(n-1, p) <= D-1) = 1 - I_p(D, n-D) the upper one.
    """
    if deaths < 1:
        raise ValueError("inverse sampling ends on a death: at least one is needed")
    alpha = 1.0 - level
    low = beta_quantile(alpha / 2.0, deaths, spins - deaths + 1)
    high = 1.0 if deaths == spins else beta_quantile(1.0 - alpha / 2.0, deaths, spins - deaths)
    return low, high


def death_chance_estimate(samples, level=0.95):
    """The death chance over samples of (spins, deaths, ended_on_death), one per host.

    Returns {'deaths', 'spins', 'hosts', 'rate', 'low', 'high', 'level', 'method'};
    rate and the bounds are None without spins.
    """
    samples = list(samples)
    deaths = sum(sample[1] for sample in samples)
    spins = sum(sample[0] for sample in samples)
    result = {"deaths": deaths, "spins": spins, "hosts": len(samples), "rate": None,
              "low": None, "high": None, "level": level, "method": None}
    if not spins:
        return result
    inverse = deaths > 0 and all(sample[2] for sample in samples)
    if inverse:
        low, high = negative_binomial_interval(deaths, spins, level)
    else:
        low, high = clopper_pearson(deaths, spins, level)
    result.update(rate=deaths / float(spins), low=low, high=high,
                  method=NEGATIVE_BINOMIAL if inverse else CLOPPER_PEARSON)
    return result


def survival(chance, spins):
    """Probability of surviving `spins` spins at `chance` (0..1) each."""
    if chance <= 0.0:
        return 1.0
    if chance >= 1.0:
        return 0.0 if spins > 0 else 1.0
    return math.exp(spins * math.log1p(-chance))


def first_death_bins(largest):
    """Bins of spin numbers 1..largest, at most 20, of a round width: [(first, last), ...].

    The last bin is open-ended (its last is None): it also holds what lies beyond.
    """
    largest = max(1, int(largest))
    width = _round_width(largest)
    count = max(1, int(math.ceil(largest / float(width))))
    bins = [(1 + index * width, (index + 1) * width) for index in range(count)]
    bins[-1] = (bins[-1][0], None)
    return bins


def _round_width(largest):
    """The smallest of 1, 2, 5, 10, 20, 50, ... that cuts 1..largest into at most 20 bins."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            width = step * scale
            if math.ceil(largest / float(width)) <= 20:
                return width
        scale *= 10


def expected_in_bin(chance, cap, first, last):
    """Probability that a host spinning at most `cap` spins at `chance` first dies within [first, last].

    `last` None means "first or later, up to the cap".
    """
    if first > cap:
        return 0.0
    end = cap if last is None else min(last, cap)
    return survival(chance, first - 1) - survival(chance, end)


def typical_first_death(chance, quantile=0.99):
    """The spin by which a share `quantile` of hosts at `chance` have died (None when chance is 0)."""
    if chance <= 0.0:
        return None
    if chance >= 1.0:
        return 1
    return int(math.ceil(math.log(1.0 - quantile) / math.log1p(-chance)))
