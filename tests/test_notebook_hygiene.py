"""Hygiene of the committed notebooks and of the files that launch them.

Notebooks must be committed executed top to bottom in a fresh kernel
(`python scripts/execute_notebooks.py`), so that readers on GitHub, Colab and Binder see every plot.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
MACHINE_PATH = re.compile(r"(/root/|/home/\w+/|/tmp/|/work/|/Users/\w+/|[A-Z]:\\\\Users|site-packages)")
RAW_FLOAT = re.compile(r"\d\.\d{5,}")  # print rounded figures, never raw floats
# A cell that trains a model, or loads trained weights: from it on, results vary with the CPU and the
# thread count. Compared outputs may then hold shapes, counts and checked claims, but no measured
# figure: no decimal number, percentage or "N×" ratio (those go in cells tagged IGNORE_TAG,
# asserted beside the print).
TRAINS = re.compile(r"\.fit\(|\btrain\w*\(|\bload_\w*\(")
MEASURED_FIGURE = re.compile(r"(?<![\w.])\d+\.\d+|\d\s?%|\d\s?×")
MAX_BYTES = 1_000_000
# Test plumbing stays out of the code a student reads: nbval reads this tag from a cell's
# metadata.tags, and the reason for ignoring the output sits beside it in the cell's metadata.
IGNORE_TAG = "nbval-ignore-output"
REASON_KEY = "ignore_output_reason"


def _repository():
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    return urls["Repository"].removeprefix("https://github.com/")


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _text(output):
    parts = [output.get("text", "")]
    for key, value in output.get("data", {}).items():
        if key.startswith("text/"):
            parts.append(value)
    return "".join("".join(p) if isinstance(p, list) else p for p in parts)


def _tags(cell):
    tags = cell.get("metadata", {}).get("tags", [])
    assert isinstance(tags, list), f"cell tags must be a list, not {tags!r}"  # nbval ignores anything else
    return tags


def _load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_there_are_notebooks_with_numbered_names():
    assert NOTEBOOKS, "no notebooks under notebooks/"
    for path in NOTEBOOKS:
        assert NAME.match(path.name), f"{path.name}: expected NN_name.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_opens_with_title_badges_colab_install_and_setup(path):
    cells = _load(path)["cells"]
    first = _source(cells[0])
    assert cells[0]["cell_type"] == "markdown" and first.startswith("# "), "first cell must be a '# Title'"
    assert "What you will learn" in first
    repo, stem = _repository(), path.stem
    assert f"https://colab.research.google.com/github/{repo}/blob/main/notebooks/{path.name}" in first
    assert f"https://mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/notebooks/{path.name}" in first
    assert stem in first
    install = _source(cells[1])
    assert cells[1]["cell_type"] == "code" and '"google.colab" in sys.modules' in install
    assert "--no-deps" in install and f"github.com/{repo}" in install  # keep Colab's TensorFlow
    assert "ah.setup_notebook(seed=0)" in _source(cells[2])  # the seed sweep replaces this seed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_executed_in_order_with_clean_outputs(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes"
    nb = _load(path)
    expected = 1
    trained = False
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = _source(cell)
        assert source.strip(), f"cell {index}: empty code cell"
        trained = trained or bool(TRAINS.search(source))
        compared = IGNORE_TAG not in _tags(cell)
        assert cell["execution_count"] == expected, (
            f"cell {index}: execution count {cell['execution_count']}, expected {expected}"
        )
        expected += 1
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"cell {index}: error output"
            assert not (output["output_type"] == "stream" and output["name"] == "stderr"), (
                f"cell {index}: stderr output"
            )
            text = _text(output)
            assert not MACHINE_PATH.search(text), (
                f"cell {index}: machine path in output: {MACHINE_PATH.search(text)[0]}"
            )
            if compared:
                assert not RAW_FLOAT.search(text), (
                    f"cell {index}: unrounded float in output: {RAW_FLOAT.search(text)[0]}"
                )
            if compared and trained:
                found = MEASURED_FIGURE.search(text)
                assert not found, (
                    f"cell {index}: measured figure {found[0]!r} in a compared output after training; print it "
                    f'in a cell tagged "{IGNORE_TAG}" (cell metadata "tags", with a "{REASON_KEY}" beside '
                    "it) and assert the claim in that cell"
                )


def test_nbval_honours_the_ignore_output_tag():
    # The tag form works only as long as nbval reads it; fail here, not in a confusing nbval diff.
    from nbval.plugin import find_metadata_tags

    assert dict(find_metadata_tags({"tags": [IGNORE_TAG]})) == {"check": False}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_ignore_tags_have_reasons_and_training_is_quiet(path):
    for index, cell in enumerate(_load(path)["cells"]):
        source = _source(cell)
        if cell["cell_type"] != "code":
            continue
        assert "NBVAL_IGNORE_OUTPUT" not in source, (
            f'cell {index}: NBVAL_IGNORE_OUTPUT comment in the code a student reads; tag the cell "{IGNORE_TAG}" '
            f'in its metadata instead, with the reason under "{REASON_KEY}"'
        )
        tags = _tags(cell)
        if IGNORE_TAG in tags:
            reason = cell["metadata"].get(REASON_KEY, "")
            assert isinstance(reason, str) and len(reason.strip()) >= 10, (
                f'cell {index}: tagged "{IGNORE_TAG}" without a "{REASON_KEY}" (10 characters at least) in its metadata'
            )
        assert "nbval-skip" not in tags, f"cell {index}: skipped cells hide regressions"
        for call in re.findall(r"\.fit\([^)]*\)", source, flags=re.S):
            assert "verbose=0" in call, f"cell {index}: training without verbose=0"
        assert "NBVAL_SKIP" not in source, f"cell {index}: skipped cells hide regressions"


def test_readme_indexes_every_notebook_with_badges():
    readme = (ROOT / "README.md").read_text()
    repo = _repository()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in readme, f"README does not list {path.name}"
        assert f"https://colab.research.google.com/github/{repo}/blob/main/notebooks/{path.name}" in readme
        assert f"https://mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/notebooks/{path.name}" in readme


def _requirement_lines(name):
    text = (ROOT / name).read_text()
    return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]


def test_backend_requirements_are_pinned():
    for line in _requirement_lines("requirements-backends.txt"):
        assert re.match(r"^[A-Za-z0-9_.\-]+==[\w.]+$", line), f"not pinned exactly: {line!r}"


def test_requirements_are_pinned_and_install_the_package():
    lines = _requirement_lines("requirements.txt")
    assert "-e ." in lines
    pins = [line for line in lines if line != "-e ."]
    for line in pins:
        assert re.match(r"^[A-Za-z0-9_.\-\[\]]+==[\w.]+$", line), f"not pinned exactly: {line!r}"
    names = {line.split("==")[0].lower() for line in pins}
    needed = {
        "tensorflow-cpu",
        "scikit-learn",
        "keras",
        "numpy",
        "matplotlib",
        "jupyterlab",
        "ipywidgets",
        "nbval",
        "pytest",
        "ruff",
    }
    assert needed <= names, f"missing pins: {needed - names}"


def test_binder_builds_python_312_and_installs_the_package():
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.12"
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert "requirements.txt" in post_build


def _notation_rows(text):
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    start = next((i for i, row in enumerate(rows) if row.startswith("| symbol | means |")), None)
    assert start is not None, "no '| symbol | means | in the code |' table"
    table = [rows[start]]
    for row in rows[start + 1 :]:
        if not row.startswith("| $"):
            break
        table.append(row)
    return table


def test_readme_and_notebook_00_share_one_notation_table():
    cells = _load(ROOT / "notebooks" / "00_attention_essence.ipynb")["cells"]
    notebook = "\n".join(_source(cell) for cell in cells if cell["cell_type"] == "markdown")
    in_notebook, in_readme = _notation_rows(notebook), _notation_rows((ROOT / "README.md").read_text())
    assert len(in_notebook) > 10, "the notation table lost its rows"
    assert in_readme == in_notebook, "README.md's notation table differs from notebook 00's: copy one to the other"
