#!/usr/bin/env python3
"""Per-area pass counts of an official ETSI NGSI-LD suite run, as the Markdown table of
docs/conformance.md.

usage: scripts/etsi-areas.py RESULTS_TSV [DEPTH]

RESULTS_TSV is the tests.tsv that ../shared/etsi/run.sh writes (suite path, test, PASS/FAIL,
message); DEPTH (default 3) is how many components of the suite path name an area.
"""
import collections
import sys


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    depth = int(sys.argv[2]) if len(sys.argv) == 3 else 3
    counts = collections.OrderedDict()
    with open(sys.argv[1], encoding="utf-8") as tsv:
        for line in tsv:
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 3:
                continue
            area = "/".join(fields[0].split("/")[:depth])
            passed, total = counts.get(area, (0, 0))
            counts[area] = (passed + (fields[2] == "PASS"), total + 1)
    print("| area (TP/NGSI-LD/...) | passed/total |")
    print("|---|---|")
    all_passed = all_total = 0
    for area in sorted(counts):
        passed, total = counts[area]
        all_passed, all_total = all_passed + passed, all_total + total
        print(f"| {area} | {passed}/{total} |")
    print(f"| **all** | **{all_passed}/{all_total}** |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
