#!/usr/bin/env python3
"""Re-execute notebooks top to bottom in a fresh kernel and write them back with their outputs.

This is how every committed notebook output is produced. The kernel is this environment's own
Python (like `pytest --nbval-current-env`), started in `notebooks/`, so the stored outputs are the
ones nbval will compare against.

    python scripts/execute_notebooks.py                 # every notebook under notebooks/
    python scripts/execute_notebooks.py notebooks/01_dense_attention.ipynb
    taskset -c 0 python scripts/execute_notebooks.py --check   # time them on one CPU, write nothing

For each notebook it prints the wall time (kernel start included), the CPU time the kernel used
(close to the wall time on one idle CPU, and unlike it not inflated by other work on the machine)
and the kernel's peak resident memory, and shuts the kernel down before the next one starts. It
fails, and writes nothing, when a cell errors or writes to stderr.

`execute_notebook` is also what `scripts/run_in_env.py` (other environments) and
`scripts/check_claims_across_seeds.py` (other seeds) run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KERNEL_NAME = "python3"


class FixedSpecManager(KernelSpecManager):
    """Always start `argv_prefix + [python, -m, ipykernel_launcher, ...]`, whatever kernels are installed."""

    def __init__(self, python, argv_prefix=(), **kwargs):
        super().__init__(**kwargs)
        self.python = str(python)
        self.argv_prefix = list(argv_prefix)

    def get_kernel_spec(self, kernel_name):
        return KernelSpec(
            argv=[*self.argv_prefix, self.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python 3 (ipykernel)",
            language="python",
        )


@dataclasses.dataclass
class Run:
    """What one execution of a notebook gave."""

    notebook: nbformat.NotebookNode
    seconds: float  # wall time, kernel start included
    peak_mb: float  # the kernel's peak resident memory (VmHWM)
    cpu_seconds: float  # CPU time the kernel used (user + system): the wall time on one idle CPU, roughly
    stderr: list  # "cell i: ..." for every stderr output
    failed_cell: int | None = None  # index of the cell that raised, if any
    error: str = ""  # "AssertionError: ..." of that cell

    @property
    def ok(self):
        return self.failed_cell is None and not self.stderr


def cpu_seconds(pid):
    """User + system CPU time of process `pid` so far, from /proc (NaN where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


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


def execute_notebook(nb, cwd=NOTEBOOKS, timeout=600, python=sys.executable, argv_prefix=(), env=None):
    """Run every cell of `nb` (in place) in a fresh kernel started in `cwd`; return a `Run`.

    Args:
        nb: a notebook (nbformat v4); its outputs are replaced.
        cwd: the kernel's working directory.
        timeout: seconds allowed per cell.
        python: the interpreter whose ipykernel runs the notebook (another environment's, for profiles).
        argv_prefix: put before the kernel command, e.g. `["taskset", "-c", "0"]` for one CPU.
        env: extra environment variables for the kernel.

    The kernel is shut down before this returns, whatever happened.
    """
    sockets = tempfile.TemporaryDirectory(prefix="kernel-")
    # Unix sockets where there are some: over TCP, ipykernel 7 warns on every start that it is unencrypted.
    transport = {"transport": "ipc", "ip": str(Path(sockets.name) / "ipc")} if os.name == "posix" else {}
    km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=FixedSpecManager(python, argv_prefix), **transport)
    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        resources={"metadata": {"path": str(cwd)}},
        store_widget_state=True,
        record_timing=False,
    )
    start = time.perf_counter()
    peak, cpu, failed_cell, error = float("nan"), float("nan"), None, ""
    kernel_env = {**os.environ, **(env or {})}
    try:
        with client.setup_kernel(env=kernel_env):
            pid = km.provisioner.process.pid if km.provisioner and km.provisioner.process else None
            for index, cell in enumerate(nb.cells):
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as exc:
                    failed_cell, error = index, f"{exc.ename}: {exc.evalue}"
                    break
            if pid:
                peak, cpu = peak_rss_mb(pid), cpu_seconds(pid)
            client.set_widgets_metadata()
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        sockets.cleanup()
    elapsed = time.perf_counter() - start
    stderr = [
        f"cell {i}: stderr: {''.join(o.get('text', ''))[:300]!r}"
        for i, cell in enumerate(nb.cells)
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stderr"
    ]
    return Run(clean(nb), elapsed, peak, cpu, stderr, failed_cell, error)


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
        run = execute_notebook(nbformat.read(path, as_version=4), cwd=path.parent, timeout=args.timeout)
        label = path.relative_to(ROOT)
        print(
            f"{label}: {run.seconds:.1f} s (kernel start included), kernel CPU {run.cpu_seconds:.1f} s, "
            f"kernel peak RSS {run.peak_mb:.0f} MB"
        )
        if not run.ok:
            failed = True
            problems = run.stderr + ([f"cell {run.failed_cell}: {run.error}"] if run.failed_cell is not None else [])
            print("  not written:\n  " + "\n  ".join(problems))
            continue
        if not args.check:
            nbformat.write(run.notebook, path)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
