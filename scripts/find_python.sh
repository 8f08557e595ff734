# SPDX-License-Identifier: GPL-3.0-or-later
# Sourced by the scripts here: find_python LOW HIGH CANDIDATE... prints the path of the first
# candidate (a command name or a path; empty ones are skipped) that runs and whose Python
# 3.X has LOW <= X <= HIGH and the venv module; fails when none does.
find_python() {
    local low=$1 high=$2 candidate
    shift 2
    for candidate in "$@"; do
        [[ -n $candidate ]] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c "import sys, venv; sys.exit(not ($low <= sys.version_info[1] <= $high and sys.version_info[0] == 3))" 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}
