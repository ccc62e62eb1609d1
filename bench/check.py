#!/usr/bin/env python3
"""make bench-check: compares a short run's FerroHSM/limit ratios (the limit is OpenSSL
EVP called directly) with the figures recorded in docs/PERFORMANCE.md (the table after
the "bench-check baseline" mark) and fails when any falls more than the tolerance below
its recorded figure. Ratios, not times, so that it holds on a slower or busier machine.

usage: check.py REPORT.md PERFORMANCE.md [--tolerance 0.20]
"""
import argparse
import sys

from tables import main_table, read_value

# Below this many operations per second (RSA key generation), a short run's cell holds
# a handful of operations and its ratio is noise.
MIN_OPS_PER_S = 100


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("baseline")
    ap.add_argument("--tolerance", type=float, default=0.20)
    a = ap.parse_args()
    now = main_table(open(a.report, encoding="utf-8").read())
    then = main_table(open(a.baseline, encoding="utf-8").read(), after_mark=True)
    compared, fallen = 0, []
    for key, row in sorted(now.items()):
        was = then.get(key)
        r_now = read_value(row.get("Ferro/limit", ""))
        r_was = read_value(was.get("Ferro/limit", "")) if was else None
        if r_now is None or r_was is None:
            continue
        limit = read_value(row.get("limit", ""))
        if limit is not None and limit < MIN_OPS_PER_S:
            print("skip %-48s thr %d  (%.0f operations/s: too few in a short run to compare)" % (key[0], key[1], limit))
            continue
        compared += 1
        floor = r_was * (1 - a.tolerance)
        mark = "ok" if r_now >= floor else "FELL"
        print("%-4s %-48s thr %d  Ferro/limit %.2f (recorded %.2f, floor %.2f)" % (mark, key[0], key[1], r_now, r_was, floor))
        if r_now < floor:
            fallen.append(key)
    if compared == 0:
        print("bench-check: no operation of this run has a recorded Ferro/limit figure", file=sys.stderr)
        return 1
    if fallen:
        print("bench-check: %d of %d ratios fell more than %d %% below docs/PERFORMANCE.md" %
              (len(fallen), compared, round(a.tolerance * 100)), file=sys.stderr)
        return 1
    print("bench-check: %d ratios, none more than %d %% below the recorded figures" % (compared, round(a.tolerance * 100)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
