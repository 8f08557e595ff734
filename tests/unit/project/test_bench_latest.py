# SPDX-License-Identifier: GPL-3.0-or-later
"""bench/latest.py rewrites one row of the Latest table in bench/RESULTS.md and nothing else."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("bench_latest", ROOT / "bench" / "latest.py")
latest = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(latest)

TABLE = """# Measured results

## Latest

| row | value | date | commit | command |
|---|---|---|---|---|
| spin ratio (module / in-process) | 0.65 | 2026-11-30 | 4d4432e | `bench/spin_bench.sh` |
| converge ratio (site.yml / by hand) | not measured this session | | | `bench/converge_bench.sh` |

## converge ratio, an older section

| converge ratio | 9 |
"""


def test_a_row_gets_value_date_commit_and_command():
    text = latest.rewrite(TABLE, "converge ratio", "0.97 (600 / 620 s)", "2026-12-01", "abc1234+changes",
                          "bench/converge_bench.sh --skip-fleet")
    assert ("| converge ratio (site.yml / by hand) | 0.97 (600 / 620 s) | 2026-12-01 | abc1234+changes |"
            " `bench/converge_bench.sh --skip-fleet` |") in text.split("\n")
    # Every other line is as it was, the older section's row too.
    assert [line for line in text.split("\n") if "converge" not in line] == \
        [line for line in TABLE.split("\n") if "converge" not in line]
    assert "| converge ratio | 9 |" in text


def test_a_value_cannot_break_the_table():
    text = latest.rewrite(TABLE, "spin ratio", "a | b", "2026-12-01", "abc1234", "x `y`")
    assert "| spin ratio (module / in-process) | a \\| b | 2026-12-01 | abc1234 | `x 'y'` |" in text


def test_an_unknown_row_is_an_error():
    with pytest.raises(ValueError, match="no row 'speed'"):
        latest.rewrite(TABLE, "speed", "1", "2026-12-01", "abc1234", "x")


def test_the_results_file_has_the_rows_the_benches_write():
    text = (ROOT / "bench" / "RESULTS.md").read_text()
    for row in ("spin ratio", "converge ratio", "warm fleet ratio", "controller 1000 hosts", "demo fresh machine"):
        latest.rewrite(text, row, "1", "2026-12-01", "abc1234", "x")
