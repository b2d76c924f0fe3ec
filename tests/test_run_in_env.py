"""scripts/run_in_env.py's colab profile runs each notebook's own install cell, pointed at the checkout."""

from pathlib import Path

import nbformat
import pytest

from scripts.execute_notebooks import NOTEBOOKS
from scripts.run_in_env import INSTALL_URL, as_in_colab


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name[:2])
def test_every_install_cell_is_pointed_at_the_wheel(path):
    wheel = Path("/wheels/attention_helpers-0.1.0-py3-none-any.whl")
    nb = as_in_colab(nbformat.read(path, as_version=4), wheel, path.name)
    install = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert f"attention_helpers @ {wheel.as_uri()}" in install.source
    assert not INSTALL_URL.search(install.source)
    assert 'if "google.colab" in sys.modules:' in install.source  # still does nothing outside Colab


def test_a_notebook_without_an_install_cell_is_refused():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title"), nbformat.v4.new_code_cell("import attention_helpers as ah")]
    with pytest.raises(ValueError, match=r"x\.ipynb: the first code cell must be the Colab install cell"):
        as_in_colab(nb, Path("/w.whl"), "x.ipynb")
