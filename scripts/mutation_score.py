"""The score of `make mutate`, per module: killed / survived / total, and every mutant that was not killed.

Reads `mutmut results --all true` (one "name: status" line per mutant) for the mutant name patterns given on the
command line (the ones `make mutate` ran); exits 1 when one of them was not killed.
"""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path


def statuses(patterns: list[str]) -> dict[str, str]:
    """Mutant name -> mutmut's status ("killed", "survived", "timeout", ...) for the names matching `patterns`."""
    mutmut = Path(sys.executable).with_name("mutmut")
    output = subprocess.run([mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in output.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name and any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
            found[name] = status
    return found


def main(patterns: list[str]) -> int:
    by_module: dict[str, Counter] = defaultdict(Counter)
    for name, status in statuses(patterns).items():
        by_module[name.split(".x")[0]][status] += 1  # "rnndemo.text.x_clean_text__mutmut_2" -> "rnndemo.text"
    print(f"{'module':<18} {'killed':>7} {'survived':>9} {'other':>6} {'total':>6}")
    for module, counts in sorted(by_module.items()):
        other = sum(counts.values()) - counts["killed"] - counts["survived"]
        print(f"{module:<18} {counts['killed']:>7} {counts['survived']:>9} {other:>6} {sum(counts.values()):>6}")
    left = {name: status for name, status in statuses(patterns).items() if status != "killed"}
    for name, status in sorted(left.items()):
        print(f"  {status}: {name} (mutmut show '{name}')")
    return 1 if left or not by_module else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
