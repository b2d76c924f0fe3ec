#!/usr/bin/env python3
"""Do the notebooks' claims hold for other seeds? Re-run them with setup seeds 0-19, data seeds shifted.

A maintainer's tool, not part of the default test run (it executes every notebook twenty times).
For setup seed k, the notebook's `ah.setup_notebook(seed=0)` becomes `seed=k` and every other
`seed=N` argument in its code becomes `seed=N + 100·k`, so the data, the initial weights and the
training order all change. The exercises run with their solutions filled in (`scripts/solutions.py`),
so each solution must pass its check for every seed too. Each run executes top to bottom in a fresh
kernel; a failing assert stops it. Nothing is written back.

    python scripts/check_claims_across_seeds.py                  # every notebook, seeds 0-19
    python scripts/check_claims_across_seeds.py notebooks/06_sagan_self_attention.ipynb --seeds 3
    python scripts/check_claims_across_seeds.py notebooks/04_*.ipynb --write-ledger   # and record it

It prints a notebook × seed table of pass/FAIL, then for each failure the assert that failed and
the text the failing cell printed before it (the figure behind the assert). Exit status 1 if any
run failed.

Every `ah.claim` a run makes is collected (the kernel appends it to a log file, see
`attention_helpers.claims`). With `--write-ledger` the values of every claim for every seed are
written into the ledger, `notebooks/claims_ledger.json` (the notebooks swept replace their entries;
the others are kept), and `notebooks/CLAIMS.md` is written from it: per notebook, each claim with its
bound, the kind of evidence, its value for setup seed 0 (the committed run's seeds), min, median and
max over the seeds, the worst margin, and a flag for a claim from live training whose value never
changes (a claim that reads a constant). `tests/test_claims_ledger.py` keeps the ledger's claim names
and bounds equal to the committed notebooks' claim lines.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from execute_notebooks import NOTEBOOKS, ROOT, execute_notebook
from solutions import is_exercise, solved

from attention_helpers.claims import LOG_VARIABLE

LEDGER_JSON = NOTEBOOKS / "claims_ledger.json"
LEDGER_MD = NOTEBOOKS / "CLAIMS.md"
LEDGER_SEEDS = list(range(20))

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


def claims_of_run(log_path, executed, failed_cell=None):
    """The claims a run recorded, each with the index of its cell and whether that cell is an exercise's.

    A claim's cell is the code cell that printed its line; a claim that did not hold printed nothing and
    belongs to the cell that failed. (The kernel's execution count, which the record also holds, runs one
    ahead of the cells' counts while a cell executes, so it cannot name the cell.)
    """
    printed_by = [(index, "".join(output.get("text", "") for output in cell.get("outputs", [])
                                  if output.get("output_type") == "stream" and output.get("name") == "stdout"))
                  for index, cell in enumerate(executed.cells) if cell.cell_type == "code"]
    records = []
    for line in Path(log_path).read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        record.pop("execution_count")
        index = next((i for i, text in printed_by if f"\n✓ {record['name']} " in "\n" + text), None)
        if index is None and not record["holds"]:
            index = failed_cell
        record["cell"] = index
        record["solution"] = index is not None and is_exercise(executed.cells[index])
        records.append(record)
    return records


def run_one(path, k, timeout):
    """(failure message or None, the run's claims, seconds) for notebook `path` with setup seed k."""
    nb, _ = solved(nbformat.read(path, as_version=4))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = shift_seeds(cell.source, k)
    with tempfile.TemporaryDirectory(prefix="claims-") as folder:
        log = Path(folder) / "claims.jsonl"
        log.touch()
        run = execute_notebook(nb, cwd=path.parent, timeout=timeout, env={LOG_VARIABLE: str(log)})
        records = claims_of_run(log, run.notebook, run.failed_cell)
    if run.ok:
        return None, records, run.seconds
    if run.failed_cell is None:
        return "stderr output: " + "; ".join(run.stderr), records, run.seconds
    cell = run.notebook.cells[run.failed_cell]
    failing_line = failing_source_line(cell)
    figure = printed(cell)
    return f"cell {run.failed_cell}: {run.error}\n      {failing_line.strip()}" + (
        f"\n      printed: {figure}" if figure else ""
    ), records, run.seconds


def ledger_entry(path, seeds, runs):
    """The ledger's entry for one notebook: every claim with its value for every seed (None where not reached)."""
    claims = {}
    for k in seeds:
        _, records, _ = runs[k]
        names = [record["name"] for record in records]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"{path.name}, setup seed {k}: claim names must be unique in a notebook. "
                             f"Repeated: {repeated}")
        for record in records:
            entry = claims.setdefault(record["name"], {key: record[key] for key in (
                "name", "op", "bound", "bound_text", "evidence", "runs", "fmt", "unit", "cell", "solution")})
            if (entry["op"], entry["bound"], entry["evidence"]) != (record["op"], record["bound"], record["evidence"]):
                raise ValueError(f"{path.name}: claim {record['name']!r} changed its bound or evidence with the seed")
            entry.setdefault("values", {})[str(k)] = record["value"]
            entry.setdefault("failed", [])
            if not record["holds"]:
                entry["failed"].append(k)
    for entry in claims.values():
        entry["values"] = {str(k): entry.get("values", {}).get(str(k)) for k in seeds}
    return {
        "seeds": list(seeds),
        "swept": datetime.date.today().isoformat(),
        "sweep_seconds": round(sum(runs[k][2] for k in seeds), 1),
        "failed_seeds": [k for k in seeds if runs[k][0] is not None],
        "claims": list(claims.values()),
    }


def margin(entry, values):
    """How far the worst value stays inside the bound (negative: outside)."""
    low, high = (entry["bound"] if entry["op"] == "between" else
                 (entry["bound"], None) if entry["op"] in (">", ">=") else (None, entry["bound"]))
    margins = ([min(values) - low] if low is not None else []) + ([high - max(values)] if high is not None else [])
    return min(margins)


def is_constant(entry):
    """True for a claim from live training whose value is the same for every seed: it reads a constant."""
    values = [v for v in entry["values"].values() if v is not None]
    return entry["evidence"] == "training" and len(values) > 1 and max(values) == min(values)


EVIDENCE_TEXT = {"training": "live training", "computation": "computation"}


def render_ledger(ledger):
    """CLAIMS.md, written from the ledger's JSON."""
    def number(entry, value):
        return "—" if value is None else format(value, entry["fmt"]) + entry["unit"]

    lines = [
        "# How sure are we? The claims ledger",
        "",
        "Every figure a notebook claims is checked in the notebook by `ah.claim`, which prints the measurement",
        "beside the claimed bound. This ledger shows how each claim fares when the notebook is re-run with",
        "setup seeds 0 to 19 (`ah.setup_notebook(seed=k)`, and every data seed `seed=N` in the code shifted to",
        "N + 100·k, so data, initial weights and training order all change): the value for seed 0 (the seeds",
        "of the committed run), the smallest, median and largest value, and the worst margin, how far the",
        "worst of the twenty values stays inside the bound. *Evidence* says what a claim rests on: **live",
        "training** (a model trained in the notebook, so the value changes with the seed), a **shipped** model",
        "or results file (trained by a script in `scripts/`; the number of training runs behind the claim is",
        "given), or a deterministic **computation**. A claim from live training whose value never changes",
        "would be reading a constant, not a measurement: it is flagged.",
        "",
        "Written by `python scripts/check_claims_across_seeds.py NOTEBOOK --write-ledger`; do not edit by hand.",
    ]
    for name, notebook in sorted(ledger["notebooks"].items()):
        seeds = notebook["seeds"]
        lines += ["", f"## [{name.removesuffix('.ipynb')}]({name})", "",
                  f"Setup seeds {seeds[0]}–{seeds[-1]}, swept on {notebook['swept']} "
                  f"({notebook['sweep_seconds']:.0f} s of notebook runs); "
                  + (f"**failed for seeds {notebook['failed_seeds']}**." if notebook["failed_seeds"] else
                     "every run passed."), ""]
        if not notebook["claims"]:
            lines.append("No `ah.claim` in this notebook yet.")
            continue
        lines += ["| claim | claimed | evidence | seed 0 | min | median | max | worst margin | note |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for entry in notebook["claims"]:
            values = [v for v in entry["values"].values() if v is not None]
            evidence = (f"shipped, {entry['runs']} run{'s' if entry['runs'] != 1 else ''}"
                        if entry["evidence"] == "shipped" else EVIDENCE_TEXT[entry["evidence"]])
            notes = (["exercise solution"] if entry["solution"] else []) + (
                ["⚠ constant over seeds"] if is_constant(entry) else []) + (
                [f"✗ fails for seeds {entry['failed']}"] if entry["failed"] else []) + (
                [f"not reached for {len(entry['values']) - len(values)} seeds"] if len(values) < len(entry["values"])
                else [])
            cells = [entry["name"].replace("|", "\\|"), entry["bound_text"], evidence,
                     number(entry, entry["values"].get("0")), number(entry, min(values)),
                     number(entry, statistics.median(values)), number(entry, max(values)),
                     number(entry, margin(entry, values)), "; ".join(notes)]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def load_ledger():
    if LEDGER_JSON.exists():
        return json.loads(LEDGER_JSON.read_text(encoding="utf-8"))
    return {"notebooks": {}}


def write_ledger(ledger):
    LEDGER_JSON.write_text(json.dumps(ledger, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    LEDGER_MD.write_text(render_ledger(ledger), encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: all)")
    parser.add_argument("--seeds", nargs="+", type=int, default=LEDGER_SEEDS, help="setup seeds k (default 0-19)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at the same time")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    parser.add_argument("--write-ledger", action="store_true",
                        help="record every claim's values in notebooks/claims_ledger.json and CLAIMS.md")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or sorted(NOTEBOOKS.glob("*.ipynb"))
    jobs = [(path, k) for path in paths for k in args.seeds]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = dict(zip(jobs, pool.map(lambda job: run_one(*job, args.timeout), jobs)))
    results = {job: run[0] for job, run in runs.items()}
    if args.write_ledger:
        ledger = load_ledger()
        for path in paths:
            ledger["notebooks"][path.name] = ledger_entry(path, args.seeds, {k: runs[(path, k)] for k in args.seeds})
        write_ledger(ledger)
        print(f"ledger written: {LEDGER_JSON.relative_to(ROOT)}, {LEDGER_MD.relative_to(ROOT)}")

    width = max(len(p.name) for p in paths)
    print(f"{'notebook':{width}s}  " + "  ".join(f"seed {k}" for k in args.seeds))
    for path in paths:
        cells = ["  ok  " if results[(path, k)] is None else " FAIL " for k in args.seeds]
        print(f"{path.name:{width}s}  " + "  ".join(cells))
    failures = [(path, k, message) for (path, k), message in results.items() if message is not None]
    for path, k, message in failures:
        print(f"\n{path.relative_to(ROOT)}, setup seed {k}:\n    {message}")
    print(f"\n{len(jobs) - len(failures)} of {len(jobs)} runs passed in {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
