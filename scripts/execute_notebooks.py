#!/usr/bin/env python3
"""Re-execute notebooks top to bottom in a fresh kernel and write them back with their outputs.

This is how every committed notebook output is produced. The kernel is this environment's own
Python (like `pytest --nbval-current-env`), started in `notebooks/`, so the stored outputs are the
ones nbval will compare against.

    python scripts/execute_notebooks.py                 # every notebook under notebooks/
    python scripts/execute_notebooks.py notebooks/01_dense_attention.ipynb

For each notebook it prints the wall time (kernel start included) and the kernel's peak resident
memory. It fails, and writes nothing, when a cell errors or writes to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KERNEL_NAME = "python3"


class CurrentEnvSpecManager(KernelSpecManager):
    """Always start `sys.executable -m ipykernel_launcher`, whatever kernels are installed."""

    def get_kernel_spec(self, kernel_name):
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python 3 (ipykernel)",
            language="python",
        )


def peak_rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def clean(nb):
    """Normalise what is not content: kernel metadata and per-cell execution timings."""
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL_NAME}
    nb.metadata.setdefault("language_info", {}).pop("version", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    return nb


def execute(path, timeout):
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=CurrentEnvSpecManager())
    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
        record_timing=False,
    )
    start = time.perf_counter()
    peak = float("nan")
    with client.setup_kernel():
        pid = km.provisioner.process.pid if km.provisioner and km.provisioner.process else None
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        if pid:
            peak = peak_rss_mb(pid)
        client.set_widgets_metadata()
    elapsed = time.perf_counter() - start
    problems = [
        f"cell {i}: stderr: {''.join(o.get('text', ''))[:300]!r}"
        for i, cell in enumerate(nb.cells)
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stderr"
    ]
    return clean(nb), elapsed, peak, problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks to run (default: all)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    parser.add_argument("--check", action="store_true", help="run and report only; write nothing")
    args = parser.parse_args(argv)
    paths = args.paths or sorted(NOTEBOOKS.glob("*.ipynb"))
    failed = False
    for path in paths:
        path = path.resolve()
        nb, elapsed, peak, problems = execute(path, args.timeout)
        label = path.relative_to(ROOT)
        print(f"{label}: {elapsed:.1f} s (kernel start included), kernel peak RSS {peak:.0f} MB")
        if problems:
            failed = True
            print("  not written, stderr output found:\n  " + "\n  ".join(problems))
            continue
        if not args.check:
            nbformat.write(nb, path)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
