#!/usr/bin/env python3
"""The picture of a benchmark run (docs/bench/latest.svg): FerroHSM and SoftHSMv2 per
operation as bars of their ratio to raw OpenSSL (EVP called directly, 1 thread), and
the object-count curves (find by label and init+open+login against 1k/10k/100k token
objects). Reads the main table that `p11bench report` prints (or the table recorded in
docs/PERFORMANCE.md, with --baseline), draws with gnuplot (bench/plot.gp).

usage: plot.py TABLE.md OUT.svg [--baseline]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

from tables import main_table, read_value

NOT_CRYPTO = ("durable", "PIN KDF", "objects", "resident memory")


def stage_of(op):
    m = re.search(r"([0-9]+)(k?) objects", op)
    return int(m.group(1)) * (1000 if m.group(2) else 1) if m else None


def write_data(rows, d):
    ratios, objects = [], {}
    for (op, thr), row in rows.items():
        if thr != 1:
            continue
        ferro, soft, limit = (read_value(row.get(c, "")) for c in ("FerroHSM", "SoftHSMv2", "limit"))
        n = stage_of(op)
        if n is not None and ferro is not None:
            entry = objects.setdefault(n, {})
            if op.startswith("find by label"):
                entry["ferro_find"] = 1e6 / ferro
                entry["soft_find"] = 1e6 / soft if soft else None
            elif op.startswith("init+open+login"):
                entry["ferro_login"], entry["soft_login"] = ferro, soft
        if any(w in op for w in NOT_CRYPTO) or not limit or ferro is None:
            continue
        ratios.append((op, ferro / limit, soft / limit if soft else None))
    if not ratios:
        raise ValueError("the table has no operation with a FerroHSM and a limit figure")
    na = lambda v: "NaN" if v is None else "%.4g" % v
    with open(os.path.join(d, "ratios.dat"), "w") as f:
        for op, fr, sr in ratios:
            f.write('"%s" %s %s\n' % (op.replace('"', "'"), na(fr), na(sr)))
    with open(os.path.join(d, "objects.dat"), "w") as f:
        for n in sorted(objects):
            e = objects[n]
            f.write("%d %s\n" % (n, " ".join(na(e.get(k)) for k in ("ferro_find", "soft_find", "ferro_login", "soft_login"))))
    return len(ratios), sorted(objects)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("table")
    ap.add_argument("out")
    ap.add_argument("--baseline", action="store_true", help="the table after the bench-check mark (docs/PERFORMANCE.md)")
    a = ap.parse_args()
    rows = main_table(open(a.table, encoding="utf-8").read(), after_mark=a.baseline)
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as d:
        n_ops, stages = write_data(rows, d)
        lo, hi = (stages[0] / 2, stages[-1] * 2) if stages else (1, 10)
        subprocess.run(["gnuplot", "-e", "dir='%s'; out='%s'; stages=%d; xlo=%g; xhi=%g" % (d, a.out, len(stages), lo, hi),
                        os.path.join(here, "plot.gp")], check=True)
    print("bench: wrote %s (%d operations, %d object stages)" % (a.out, n_ops, len(stages)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
