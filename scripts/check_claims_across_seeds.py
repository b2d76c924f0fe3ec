#!/usr/bin/env python3
"""Do the notebooks' claims hold for other seeds? Re-run them with setup seeds 0-9, data seeds shifted.

A maintainer's tool, not part of the default test run (it executes every notebook ten times).
For setup seed k, the notebook's `ah.setup_notebook(seed=0)` becomes `seed=k` and every other
`seed=N` argument in its code becomes `seed=N + 100·k`, so the data, the initial weights and the
training order all change. The exercises run with their solutions filled in (`scripts/solutions.py`),
so each solution must pass its check for every seed too. Each run executes top to bottom in a fresh
kernel; a failing assert stops it. Nothing is written back.

    python scripts/check_claims_across_seeds.py                  # every notebook, seeds 0-9
    python scripts/check_claims_across_seeds.py notebooks/06_sagan_self_attention.ipynb --seeds 3

It prints a notebook × seed table of pass/FAIL, then for each failure the assert that failed and
the text the failing cell printed before it (the figure behind the assert). Exit status 1 if any
run failed.
"""

from __future__ import annotations

import argparse
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from execute_notebooks import NOTEBOOKS, ROOT, execute_notebook
from solutions import solved

SETUP_SEED = re.compile(r"(setup_notebook\(\s*seed\s*=\s*)\d+")
DATA_SEED = re.compile(r"(?<![\w.])(seed\s*=\s*)(\d+)\b")


def shift_seeds(source, k):
    """`source` with the setup seed set to k and every other literal `seed=N` shifted to N + 100·k."""
    marked = SETUP_SEED.sub(lambda m: m[1] + "SETUP_SEED", source)
    shifted = DATA_SEED.sub(lambda m: f"{m[1]}{int(m[2]) + 100 * k}", marked)
    return shifted.replace("SETUP_SEED", str(k))


def printed(cell):
    """The text a cell printed (stdout and text results), for the failure report."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            parts.append(output.get("text", ""))
        elif "text/plain" in output.get("data", {}) and "Figure" not in output["data"]["text/plain"]:
            parts.append(output["data"]["text/plain"])
    return "".join(parts).strip()


ANSI = re.compile(r"\x1b\[[0-9;]*m")
TRACEBACK_LINE = re.compile(r"^-*> *(\d+)")  # IPython marks the line that raised: "---> 12 assert ..."


def failing_source_line(cell):
    """The line of `cell` that raised, from the error output's traceback (IPython marks it with an arrow)."""
    lines = cell.source.splitlines()
    for output in cell.get("outputs", []):
        if output.get("output_type") != "error":
            continue
        for text in output.get("traceback", []):
            for line in ANSI.sub("", text).splitlines():
                found = TRACEBACK_LINE.match(line.strip())
                if found and 0 < int(found[1]) <= len(lines):
                    return lines[int(found[1]) - 1]
    return ""


def run_one(path, k, timeout):
    nb, _ = solved(nbformat.read(path, as_version=4))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = shift_seeds(cell.source, k)
    run = execute_notebook(nb, cwd=path.parent, timeout=timeout)
    if run.ok:
        return None
    if run.failed_cell is None:
        return "stderr output: " + "; ".join(run.stderr)
    cell = run.notebook.cells[run.failed_cell]
    failing_line = failing_source_line(cell)
    figure = printed(cell)
    return f"cell {run.failed_cell}: {run.error}\n      {failing_line.strip()}" + (
        f"\n      printed: {figure}" if figure else ""
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: all)")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(range(10)), help="setup seeds k")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at the same time")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or sorted(NOTEBOOKS.glob("*.ipynb"))
    jobs = [(path, k) for path in paths for k in args.seeds]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = dict(zip(jobs, pool.map(lambda job: run_one(*job, args.timeout), jobs)))

    width = max(len(p.name) for p in paths)
    print(f"{'notebook':{width}s}  " + "  ".join(f"seed {k}" for k in args.seeds))
    for path in paths:
        cells = ["  ok  " if results[(path, k)] is None else " FAIL " for k in args.seeds]
        print(f"{path.name:{width}s}  " + "  ".join(cells))
    failures = [(path, k, message) for (path, k), message in results.items() if message is not None]
    for path, k, message in failures:
        print(f"\n{path.relative_to(ROOT)}, setup seed {k}:\n    {message}")
    print(f"\n{len(jobs) - len(failures)} of {len(jobs)} runs passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
