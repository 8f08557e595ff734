# SPDX-License-Identifier: GPL-3.0-or-later
"""report_stats: the death chance's interval, right for the stopping rule, in plain Python."""

from __future__ import annotations

import math
import random

import pytest
from ansible_collections.rustkmod.roulette.plugins.plugin_utils import report_stats as stats


def binomial_tail(n, p, at_least):
    return sum(math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(at_least, n + 1))


@pytest.mark.parametrize("a, n, p", [(1, 1, 0.3), (1, 20, 0.05), (3, 40, 0.1), (7, 30, 0.5), (20, 25, 0.9), (2, 400, 0.002)])
def test_beta_cdf_is_the_binomial_tail(a, n, p):
    # I_p(a, n - a + 1) = P(Binomial(n, p) >= a): an independent way to the same number.
    assert stats.beta_cdf(p, a, n - a + 1) == pytest.approx(binomial_tail(n, p, a), rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("q, a, b", [(0.025, 1, 19), (0.975, 3, 57), (0.5, 10, 10), (0.001, 2, 5000), (0.999, 50, 3)])
def test_beta_quantile_inverts_the_cdf(q, a, b):
    assert stats.beta_cdf(stats.beta_quantile(q, a, b), a, b) == pytest.approx(q, rel=1e-9)


def test_closed_forms():
    # One death after n spins: Beta(1, m) has the quantile 1 - (1 - q) ** (1 / m).
    n = 40
    low, high = stats.negative_binomial_interval(1, n)
    assert low == pytest.approx(1 - 0.975 ** (1 / n), rel=1e-9)
    assert high == pytest.approx(1 - 0.025 ** (1 / (n - 1)), rel=1e-9)
    # No death in n fixed spins: Clopper-Pearson's upper bound is 1 - (alpha/2) ** (1/n).
    assert stats.clopper_pearson(0, n) == pytest.approx((0.0, 1 - 0.025 ** (1 / n)), rel=1e-9)
    assert stats.clopper_pearson(n, n)[1] == 1.0 and stats.negative_binomial_interval(n, n)[1] == 1.0
    # The inverse-sampling upper bound is the lower one: stopping at a death tells more.
    assert stats.negative_binomial_interval(5, 100)[1] < stats.clopper_pearson(5, 100)[1]
    assert stats.negative_binomial_interval(5, 100)[0] == stats.clopper_pearson(5, 100)[0]
    with pytest.raises(ValueError):
        stats.negative_binomial_interval(0, 10)


def test_the_interval_follows_the_stopping_rule():
    every_host_stopped_at_a_death = [(12, 1, True), (30, 1, True), (7, 1, True)]
    one_spun_its_whole_count = every_host_stopped_at_a_death + [(50, 0, False)]
    inverse = stats.death_chance_estimate(every_host_stopped_at_a_death)
    fixed = stats.death_chance_estimate(one_spun_its_whole_count)
    assert inverse["method"] == stats.NEGATIVE_BINOMIAL and fixed["method"] == stats.CLOPPER_PEARSON
    assert inverse["rate"] == pytest.approx(3 / 49) and fixed["rate"] == pytest.approx(3 / 99)
    assert (inverse["deaths"], inverse["spins"], inverse["hosts"]) == (3, 49, 3)
    assert stats.death_chance_estimate([])["rate"] is None
    assert stats.death_chance_estimate([(10, 0, False)])["low"] == 0.0


@pytest.mark.parametrize("chance, hosts, count", [(0.05, 3, 1000), (0.05, 10, 20), (0.2, 40, 5), (0.5, 10, 1), (0.01, 40, 100)])
def test_the_interval_holds_its_95_percent(chance, hosts, count):
    """Simulated fleets, each host spinning until its first death or `count` spins: the interval
    covers the true chance in at least ~95 % of them (a 2.5-sigma margin for 600 fleets)."""
    rng = random.Random(hosts * 1000 + count)
    covered = 0
    fleets = 600
    for _ in range(fleets):
        samples = []
        for _host in range(hosts):
            first = 1 + int(math.log(1.0 - rng.random()) / math.log1p(-chance))
            samples.append((first, 1, True) if first <= count else (count, 0, False))
        estimate = stats.death_chance_estimate(samples)
        covered += estimate["low"] <= chance <= estimate["high"]
    assert covered / fleets >= 0.95 - 2.5 * math.sqrt(0.95 * 0.05 / fleets)


def test_bins_and_expectations():
    assert stats.first_death_bins(1) == [(1, None)]
    assert stats.first_death_bins(20) == [(n, n) for n in range(1, 20)] + [(20, None)]
    bins = stats.first_death_bins(90)
    assert len(bins) <= 20 and bins[0] == (1, 5) and bins[-1] == (86, None)
    assert len(stats.first_death_bins(100000)) <= 20
    # A host's probabilities over the bins and surviving its count add up to one.
    for chance, cap in ((0.05, 30), (0.5, 3), (0.0, 10), (1.0, 4)):
        total = sum(stats.expected_in_bin(chance, cap, a, b) for a, b in stats.first_death_bins(40))
        assert total + stats.survival(chance, cap) == pytest.approx(1.0)
    assert stats.typical_first_death(0.05) == 90 and stats.typical_first_death(0) is None
