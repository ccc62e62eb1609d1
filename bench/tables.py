"""The main table of a benchmark run, as `p11bench report` prints it (markdown), read
back for the picture (bench/plot.py) and the regression guard (bench/check.py).

The table's header is
  | operation | thr | FerroHSM | SoftHSMv2 | limit | Ferro/Soft | Ferro/limit | +µs/call vs limit |
Cells are "21.4k", "1.62M", "360 ms", "12.0 MiB" (each perhaps marked " *": measured
under load), "n/a[1]" or "—"; read_value() turns the first kinds into numbers and the
rest into None.
"""
import re

HEADER = ["operation", "thr", "FerroHSM", "SoftHSMv2", "limit", "Ferro/Soft", "Ferro/limit"]
BASELINE_MARK = "<!-- bench-check baseline -->"


def read_value(cell):
    m = re.fullmatch(r"(-?[0-9.]+)\s*([kM]?)(?:\s*(?:ms|MiB|µs))?(?:\s*\*)?", cell.strip())
    if not m:
        return None
    scale = {"": 1, "k": 1e3, "M": 1e6}[m.group(2)]
    return float(m.group(1)) * scale


def main_table(text, after_mark=False):
    """Rows {(operation, threads): {column: cell}} of the first main table in `text`
    (the first after BASELINE_MARK when after_mark)."""
    lines = text.splitlines()
    if after_mark:
        if BASELINE_MARK not in lines:
            raise ValueError("no '%s' line" % BASELINE_MARK)
        lines = lines[lines.index(BASELINE_MARK) + 1:]
    rows, columns = {}, None
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if columns is None:
            if cells and cells[:len(HEADER)] == HEADER:
                columns = cells
            continue
        if cells is None:
            break  # the table ended
        if set(cells[0]) <= set("-"):
            continue  # the |---| line
        rows[(cells[0], int(cells[1]))] = dict(zip(columns, cells))
    if columns is None:
        raise ValueError("no table with the columns " + " | ".join(HEADER))
    return rows
