#!/usr/bin/env python3
"""Build the environment a student really has, and run every notebook in it top to bottom.

    python scripts/run_in_env.py colab     # Python 3.13, Colab's pinned packages, each notebook's install cell
    python scripts/run_in_env.py binder    # Python 3.12 (binder/runtime.txt), requirements.txt, one CPU
    python scripts/run_in_env.py default   # this machine's python3, requirements.txt
    python scripts/run_in_env.py binder notebooks/06_sagan_self_attention.ipynb

Each profile gets a fresh virtual environment under `.envs/<profile>/` (reused while its
requirement files are unchanged; `--fresh` rebuilds it). The notebooks run with nbclient from the
environment that runs this script, in a kernel started from the profile's interpreter, so a
notebook sees exactly the profile's packages. A cell that raises (a failed assert included) fails
the run. Outputs are not compared (that is nbval's job, in the README's test command) and nothing
is written back.

For each notebook it prints the wall time (kernel start included) and the kernel's peak resident
memory; for `binder`, against mybinder.org's 2048 MB and the project's 20 s budget. Those are
reported, not enforced: timings belong in reports, not in tests.

The `colab` profile runs a notebook as Colab does: the environment holds Colab's own packages only
(scripts/profiles/colab.txt), `google.colab` is importable in the kernel (a stub module), and the
notebook's own first code cell installs what it needs, with its repository address pointed at a wheel
of this checkout. Before each notebook, whatever an earlier notebook installed is uninstalled again,
so a notebook whose install cell forgets a package fails here as it would in Colab.

If a profile's Python is missing, the script fails and says which one and how to get it.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from execute_notebooks import NOTEBOOKS, ROOT, execute_notebook

ENVS = ROOT / ".envs"
BUDGET_SECONDS = 20  # the project's budget per notebook, kernel start included
BINDER_MEMORY_MB = 2048  # what mybinder.org gives a session


def binder_python():
    return (ROOT / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")


PROFILES = {
    "colab": {
        "python": "3.13",
        "requirements": ["scripts/profiles/colab.txt"],
        "package": None,  # each notebook's own install cell installs it (see `as_in_colab`)
        "one_cpu": False,
        "install_cells": True,
    },
    "binder": {
        "python": binder_python(),
        "requirements": ["requirements.txt"],  # binder/postBuild installs exactly this
        "package": None,  # requirements.txt installs the package (`-e .`)
        "one_cpu": True,
    },
    "default": {
        "python": None,  # the python3 that runs this script
        "requirements": ["requirements.txt"],
        "package": None,
        "one_cpu": False,
    },
}


def find_python(version):
    """An interpreter of `version` ("3.13"): on PATH, or installed by pyenv. None if there is none."""
    if version is None:
        return sys.executable
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(glob.glob(str(pyenv_root / "versions" / f"{version}.*" / "bin" / f"python{version}")))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:  # a pyenv shim may point nowhere
            return candidate
    return None


def build(name, profile, fresh):
    """Create (or reuse) `.envs/<name>` for `profile`; return its interpreter."""
    python = find_python(profile["python"])
    if python is None:
        sys.exit(
            f"run_in_env.py: the {name!r} profile needs Python {profile['python']}, and none was found "
            f"(looked for python{profile['python']} on PATH and in ~/.pyenv/versions/{profile['python']}.*). "
            f"Install it, for example with `pyenv install {profile['python']}`, and run again."
        )
    env_dir = ENVS / name
    stamp = hashlib.sha256(
        "\n".join([python, *[(ROOT / r).read_text() for r in profile["requirements"]]]).encode()
    ).hexdigest()
    if fresh or not (env_dir / "stamp").is_file() or (env_dir / "stamp").read_text() != stamp:
        shutil.rmtree(env_dir, ignore_errors=True)
        print(f"[{name}] creating {env_dir.relative_to(ROOT)} with {python}", flush=True)
        subprocess.run([python, "-m", "venv", str(env_dir)], check=True)
        pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        for requirements in profile["requirements"]:
            subprocess.run([*pip, "-r", requirements], cwd=ROOT, check=True)
        if profile["package"]:
            subprocess.run([*pip, *profile["package"]], cwd=ROOT, check=True)
        subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "check"], cwd=ROOT, check=True)
        (env_dir / "stamp").write_text(stamp)
    return env_dir / "bin" / "python"


INSTALL_URL = re.compile(r"git\+https://github\.com/[\w.-]+/[\w.-]+")
# In the kernel, `import google.colab` works (as in Colab) and says what it is.
COLAB_STUB = '"""A stand-in for Colab\'s module: the `colab` profile of scripts/run_in_env.py."""\n'


def colab_stub():
    """A folder for the kernel's PYTHONPATH where `google.colab` is importable and imported at start-up."""
    folder = ENVS / "colab-stub"
    (folder / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (folder / "google" / "colab" / "__init__.py").write_text(COLAB_STUB)
    (folder / "sitecustomize.py").write_text("import google.colab  # noqa: F401  (Colab imports it at start-up)\n")
    return folder


def build_wheel(python):
    """A wheel of this checkout, what `pip install git+https://...` would build from the repository."""
    folder = ENVS / "colab-wheel"
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([str(python), "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                    "-w", str(folder), str(ROOT)], check=True)
    (wheel,) = folder.glob("attention_helpers-*.whl")
    return wheel


def installed(python):
    """The distributions installed in `python`'s environment, as `pip freeze` names them (lower case)."""
    frozen = subprocess.run([str(python), "-m", "pip", "freeze", "--all", "--disable-pip-version-check"],
                            capture_output=True, text=True, check=True).stdout
    return {re.split(r"[=@ ]", line, maxsplit=1)[0].strip().lower() for line in frozen.splitlines() if line.strip()}


def as_in_colab(nb, wheel, where):
    """`nb` with its install cell's repository address pointed at `wheel`; raises if it has no such cell."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            if "google.colab" not in cell.source or not INSTALL_URL.search(cell.source):
                raise ValueError(f"{where}: the first code cell must be the Colab install cell, installing "
                                 f"attention_helpers from git+https://github.com/OWNER/NAME. Received:\n{cell.source}")
            cell.source = INSTALL_URL.sub(wheel.as_uri(), cell.source)
            return nb
    raise ValueError(f"{where}: no code cell")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", choices=sorted(PROFILES))
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: all)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the environment even if it is up to date")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    profile = PROFILES[args.profile]
    python = build(args.profile, profile, args.fresh)
    versions = subprocess.run(
        [str(python), "-c", "import attention_helpers as ah; print(ah.versions())"],
        capture_output=True,
        text=True,
        check=True,
        # colab: the package is not installed until a notebook's install cell runs; read it from the checkout
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
             **({"PYTHONPATH": str(ROOT)} if profile.get("install_cells") else {})},
    ).stdout.strip()
    print(f"[{args.profile}] {versions}", flush=True)

    one_cpu = profile["one_cpu"] and shutil.which("taskset") is not None
    if profile["one_cpu"] and not one_cpu:
        print(f"[{args.profile}] taskset not found: running on every CPU instead of one", flush=True)
    prefix = ["taskset", "-c", "0"] if one_cpu else []
    env = {"PYDEVD_DISABLE_FILE_VALIDATION": "1"}  # ipykernel's debugger warns on the kernel's stderr
    paths = [p.resolve() for p in args.paths] or sorted(NOTEBOOKS.glob("*.ipynb"))
    if profile.get("install_cells"):
        wheel = build_wheel(python)
        env["PYTHONPATH"] = str(colab_stub())
        colab_packages = installed(python) - {"attention-helpers", "attention_helpers"}
    failed = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if profile.get("install_cells"):
            extras = sorted(installed(python) - colab_packages)
            if extras:  # what an earlier notebook's install cell added: gone again, as in a fresh Colab runtime
                subprocess.run([str(python), "-m", "pip", "uninstall", "-y", "-q", *extras], check=True)
            nb = as_in_colab(nb, wheel, path.name)
        run = execute_notebook(
            nb,
            cwd=path.parent,
            timeout=args.timeout,
            python=python,
            argv_prefix=prefix,
            env=env,
        )
        status = "ok" if run.failed_cell is None else f"FAILED at cell {run.failed_cell}: {run.error}"
        line = (
            f"[{args.profile}] {path.name}: {run.seconds:5.1f} s (kernel CPU {run.cpu_seconds:4.1f} s), "
            f"kernel peak {run.peak_mb:4.0f} MB, {status}"
        )
        if args.profile == "binder":
            line += f" | {run.seconds / BUDGET_SECONDS:.0%} of the {BUDGET_SECONDS} s budget on one CPU"
            line += f", {run.peak_mb / BINDER_MEMORY_MB:.0%} of Binder's {BINDER_MEMORY_MB} MB"
        print(line, flush=True)
        if run.failed_cell is not None:
            failed.append(path.name)
    print(f"[{args.profile}] {len(paths) - len(failed)} of {len(paths)} notebooks ran without error", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
