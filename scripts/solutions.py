"""Each notebook with its exercises solved: what the tests and the seed sweep run.

An exercise in a notebook is a code cell with `YOUR CODE` in it that ends with its check,

    passed = ah.exercises.check_something(...)

followed by a markdown cell that opens with `<details><summary>Solution` and holds exactly one
fenced ```python block: the solution. The notebooks do not run their solutions (the output would
show the hidden answer in plain sight, and training a second model costs every student seconds).
`solved(nb)` returns a copy in which each exercise cell runs its solution just before its check and
then asserts that the check passed, so that

    tests/test_solutions.py                     runs every solution through its own check, and
    scripts/check_claims_across_seeds.py        does the same for setup seeds 0-9.

A notebook whose exercise does not follow this shape raises `ValueError` saying which cell.
"""

from __future__ import annotations

import copy
import re

CHECK_LINE = re.compile(r"^passed = ah\.exercises\.check_\w+\(", re.MULTILINE)
SOLUTION_BLOCK = re.compile(r"```python\n(.*?)\n```", re.DOTALL)
SOLUTION_OPENING = "<details><summary>Solution"


def is_exercise(cell):
    """True for an exercise's code cell: a `YOUR CODE` template that runs a check."""
    return cell.cell_type == "code" and "YOUR CODE" in cell.source and "ah.exercises.check_" in cell.source


def solution_code(cell, where):
    """The one ```python block of a solution cell; `where` names the cell in the error."""
    if cell.cell_type != "markdown" or not cell.source.startswith(SOLUTION_OPENING):
        raise ValueError(f"{where}: an exercise must be followed by a markdown cell opening with "
                         f"{SOLUTION_OPENING!r}. Received a {cell.cell_type} cell: {cell.source[:60]!r}")
    blocks = SOLUTION_BLOCK.findall(cell.source)
    if len(blocks) != 1:
        raise ValueError(f"{where}: a solution cell must hold exactly one ```python block. Received {len(blocks)}.")
    return blocks[0]


def solved(nb):
    """A copy of `nb` whose exercise cells run their solutions; returns `(notebook, number of exercises)`."""
    nb = copy.deepcopy(nb)
    count = 0
    for index, cell in enumerate(nb.cells):
        if not is_exercise(cell):
            continue
        where = f"cell {index}"
        found = CHECK_LINE.search(cell.source)
        if found is None:
            raise ValueError(f"{where}: an exercise must run its check as `passed = ah.exercises.check_...(...)`. "
                             f"Received:\n{cell.source}")
        if index + 1 >= len(nb.cells):
            raise ValueError(f"{where}: an exercise must be followed by its solution; it is the last cell.")
        solution = solution_code(nb.cells[index + 1], f"cell {index + 1}")
        template, check = cell.source[: found.start()], cell.source[found.start():]
        cell.source = (
            f"{template.rstrip()}\n\n# the solution, from the next cell\n{solution}\n\n{check.rstrip()}\n"
            f"assert passed, 'the solution in cell {index + 1} does not pass its own check'"
        )
        count += 1
    return nb, count
