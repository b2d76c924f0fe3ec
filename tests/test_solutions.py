"""Every exercise's written solution passes the exercise's own check, in the notebook it belongs to.

The notebooks keep their solutions in a collapsed markdown cell and never run them, so nbval
cannot notice a solution that stopped working. Here each notebook runs top to bottom in a fresh
kernel with its solutions filled in (`scripts/solutions.py`); a failing check, or a failing
assert among a solution's own measurements, fails the test.
"""

from pathlib import Path

import nbformat
import pytest

from scripts.execute_notebooks import NOTEBOOKS, execute_notebook
from scripts.solutions import is_exercise, solved

WITH_EXERCISES = [
    path
    for path in sorted(NOTEBOOKS.glob("*.ipynb"))
    if any(is_exercise(cell) for cell in nbformat.read(path, as_version=4).cells)
]


def _notebook(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    return nb


def test_every_notebook_has_an_exercise():
    assert sorted(NOTEBOOKS.glob("*.ipynb")) == WITH_EXERCISES


def test_solved_runs_the_solution_before_the_check_and_asserts_it():
    template = 'answer = None  # YOUR CODE\n\npassed = ah.exercises.check_answer(answer)'
    solution = '<details><summary>Solution (try first!)</summary>\n\n```python\nanswer = 42\n```\nWhy.\n</details>'
    nb = _notebook([nbformat.v4.new_code_cell(template), nbformat.v4.new_markdown_cell(solution)])
    result, count = solved(nb)
    assert count == 1
    source = result.cells[0].source
    assert source.index("answer = None") < source.index("answer = 42") < source.index("passed = ah.exercises")
    assert source.rstrip().splitlines()[-1].startswith("assert passed")
    assert nb.cells[0].source == template  # the notebook itself is left alone


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (["x = None  # YOUR CODE\nok = ah.exercises.check_x(x)", "<details><summary>Solution\n```python\nx = 1\n```"],
         "passed = ah.exercises.check_"),
        (["x = None  # YOUR CODE\npassed = ah.exercises.check_x(x)", "Some text, no solution."],
         "opening with '<details><summary>Solution'"),
        (["x = None  # YOUR CODE\npassed = ah.exercises.check_x(x)", "<details><summary>Solution\nno code\n</details>"],
         "exactly one ```python block. Received 0"),
        (["x = None  # YOUR CODE\npassed = ah.exercises.check_x(x)"], "it is the last cell"),
    ],
)
def test_solved_names_the_cell_of_a_malformed_exercise(cells, message):
    nb = _notebook([nbformat.v4.new_code_cell(cells[0])] + [nbformat.v4.new_markdown_cell(c) for c in cells[1:]])
    with pytest.raises(ValueError, match=r"cell [01]") as error:
        solved(nb)
    assert message in str(error.value)


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda path: path.name)
def test_solutions_pass_their_checks(path: Path):
    nb, count = solved(nbformat.read(path, as_version=4))
    assert count >= 1
    run = execute_notebook(nb, cwd=path.parent)
    assert run.ok, f"{path.name} with its solutions filled in failed at cell {run.failed_cell}: {run.error} {run.stderr}"
