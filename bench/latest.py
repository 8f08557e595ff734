# SPDX-License-Identifier: GPL-3.0-or-later
"""Rewrite one row of the `## Latest` table at the top of bench/RESULTS.md.

  python3 bench/latest.py ROW VALUE COMMAND

ROW is the row's name up to any parenthesis (`converge ratio`, `warm fleet ratio`, ...); the
row keeps its full name and gets VALUE, today's UTC date, the checkout's short commit (with
`+changes` when the work tree differs from it, bench/RESULTS.md aside) and COMMAND. The benches call it after a run,
so the table always says what was measured last, on which code, with what.
"""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def commit(root):
    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout
    # The results file itself is not the code measured: its own edits do not count.
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/RESULTS.md").strip()
    return git("rev-parse", "--short", "HEAD").strip() + ("+changes" if dirty else "")


def rewrite(text, row, value, when, revision, command):
    """`text` with the Latest table's row `row` set; ValueError when there is no such row."""
    lines = text.split("\n")
    start = lines.index("## Latest")
    for number in range(start, len(lines)):
        line = lines[number]
        if number > start + 1 and not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.sub(r"\s*\(.*", "", cells[0]) == row:
            clean = [str(cell).replace("|", "\\|").replace("\n", " ") for cell in (value, when, revision)]
            lines[number] = "| %s | %s | %s | %s | `%s` |" % (cells[0], *clean, command.replace("`", "'"))
            return "\n".join(lines)
    raise ValueError("no row %r in the Latest table" % row)


def main(argv):
    if len(argv) != 4:
        raise SystemExit(__doc__)
    row, value, command = argv[1:]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    RESULTS.write_text(rewrite(RESULTS.read_text(), row, value, when, commit(RESULTS.parent.parent), command))
    print("bench/RESULTS.md, Latest: %s = %s" % (row, value))


if __name__ == "__main__":
    main(sys.argv)
