"""Measured claims: one line a student reads, one record the seed sweep collects.

A notebook states what it measured with `claim`, not with a bare `assert`:

    ah.claim("two layers copy the repeat: accuracy", accuracy, ">=", 0.98, evidence="training")

prints

    ✓ two layers copy the repeat: accuracy 0.993 (claimed ≥ 0.98)

and raises `ClaimError` (an `AssertionError`) with both numbers when the bound does not hold. Exact
checks (equal to NumPy, exact zeros, equal to a Keras built-in) stay plain asserts: they have no
spread to report.

`evidence` says what the figure rests on, and what the ledger (`notebooks/CLAIMS.md`, written by
`scripts/check_claims_across_seeds.py` over setup seeds 0-19) can expect of it:

- "training": a model trained in the notebook; the figure changes with the seed.
- "shipped": a model shipped with the package, trained by a script; give `runs=`, the number of
  trainings behind the claim (the ledger shows it; a claim about what training does needs >= 3).
- "computation": a deterministic measurement of a fixed construction (counts, shapes, an untrained
  formula on seeded inputs); it may or may not change with the seed.

Every claim made in a kernel is kept, in order, in `recorded()`, and appended to the file named by the
environment variable `ATTENTION_HELPERS_CLAIMS_LOG` when it is set: that is how the seed sweep collects
every claim's value, failing ones included. The printed line has `LINE`'s format, which `parse_line`
reads back (the ledger's test uses it to keep the committed notebooks and the ledger in step).
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re

import numpy as np

__all__ = ["EVIDENCE", "OPERATORS", "ClaimError", "claim", "parse_line", "recorded"]

OPERATORS = {">": ">", ">=": "≥", "<": "<", "<=": "≤", "between": "between"}
EVIDENCE = ("training", "shipped", "computation")

_RECORDED: list[dict] = []
LOG_VARIABLE = "ATTENTION_HELPERS_CLAIMS_LOG"  # when set, each record is also appended to this file, one JSON a line

# "✓ {name} {value} (claimed {op} {bound})", the line `claim` prints.
LINE = re.compile(r"^✓ (?P<measured>.+) \(claimed (?P<bound>(?:[>≥<≤] |between ).+)\)$")


class ClaimError(AssertionError):
    """A measured claim that did not hold; the message gives the claim, the measurement and the bound."""


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        array = np.asarray(value) if not isinstance(value, (str, bytes)) else None
        if array is None or array.shape != () or array.dtype.kind not in "iuf":
            raise TypeError(f"`{name}` must be a single real number. Received: {name}={value!r}")
        value = array.item()
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"`{name}` must be a number, not NaN. Received: {name}={value!r}")
    return value


def _format(value, fmt, unit):
    text = format(value, fmt)
    if text.startswith("-") and float(text.rstrip("%").replace(",", "")) == 0:
        text = text[1:]  # "-0.00" reads as a sign error
    return text + unit


def claim(name, value, op, bound, *, evidence, runs=None, fmt=".3g", unit=""):
    """Check a measured figure against its claimed bound and print one line with both.

    Args:
        name: what is claimed, as a student reads it ("two layers copy the repeat: accuracy"); unique
            within a notebook, since the ledger tracks each claim by its name.
        value: the measured figure, a real number (NumPy scalars and 0-d arrays are fine).
        op: one of ">", ">=", "<", "<=" or "between".
        bound: a number, or for "between" a pair `(low, high)` (inclusive).
        evidence: "training", "shipped" or "computation" (see the module's docstring).
        runs: for evidence="shipped", the number of trainings the claim rests on (>= 1).
        fmt: format spec for the value and the bound, e.g. ".3g" (default), ".2f", ".1%", ",d".
        unit: text after each number, e.g. "×" or " nats".

    Returns:
        The value, as a float.

    Raises:
        ClaimError: when the bound does not hold (the message names the claim and gives both figures).
        TypeError, ValueError: for arguments of the wrong type or value.
    """
    if not isinstance(name, str) or not name.strip() or "\n" in name:
        raise TypeError(f"`name` must be a non-empty one-line string. Received: name={name!r}")
    if op not in OPERATORS:
        raise ValueError(f"Invalid value for argument `op`. Expected one of {list(OPERATORS)}. Received: op={op!r}")
    if evidence not in EVIDENCE:
        raise ValueError(
            f"Invalid value for argument `evidence`. Expected one of {list(EVIDENCE)}. Received: evidence={evidence!r}"
        )
    if evidence == "shipped":
        if isinstance(runs, bool) or not isinstance(runs, numbers.Integral) or runs < 1:
            raise ValueError(
                "`runs` must be the number of trainings (an integer >= 1) when evidence='shipped'. "
                f"Received: runs={runs!r}"
            )
        runs = int(runs)
    elif runs is not None:
        raise ValueError(f"`runs` is only for evidence='shipped'. Received: runs={runs!r} with evidence={evidence!r}")
    if not isinstance(fmt, str) or not isinstance(unit, str) or "(" in unit or ")" in unit:
        raise TypeError(f"`fmt` and `unit` must be strings without parentheses. Received: fmt={fmt!r}, unit={unit!r}")
    value = _number("value", value)
    if op == "between":
        if not isinstance(bound, (tuple, list)) or len(bound) != 2:
            raise TypeError(f"`bound` must be a pair (low, high) for op='between'. Received: bound={bound!r}")
        low, high = _number("bound[0]", bound[0]), _number("bound[1]", bound[1])
        if low > high:
            raise ValueError(f"`bound` must be (low, high) with low <= high. Received: bound={bound!r}")
        holds = low <= value <= high
        bound_text = f"between {_format(low, fmt, unit)} and {_format(high, fmt, unit)}"
        bound = [low, high]
    else:
        bound = _number("bound", bound)
        holds = {">": value > bound, ">=": value >= bound, "<": value < bound, "<=": value <= bound}[op]
        bound_text = f"{OPERATORS[op]} {_format(bound, fmt, unit)}"
    value_text = _format(value, fmt, unit)
    if "(" in value_text or ")" in value_text:
        raise ValueError(f"`fmt` gives a value that the claim line cannot hold: {value_text!r}")
    record = {"name": name, "value": value, "op": op, "bound": bound, "bound_text": bound_text, "evidence": evidence,
              "runs": runs, "fmt": fmt, "unit": unit, "holds": bool(holds), "execution_count": _execution_count()}
    _RECORDED.append(record)
    if os.environ.get(LOG_VARIABLE):
        with open(os.environ[LOG_VARIABLE], "a", encoding="utf-8") as log:
            log.write(json.dumps(record, ensure_ascii=False) + "\n")
    if not holds:
        raise ClaimError(f"claim {name!r} does not hold: measured {value_text}, claimed {bound_text}")
    print(f"✓ {name} {value_text} (claimed {bound_text})")
    return value


def _execution_count():
    """The IPython execution count of the running cell (None outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return None
    shell = get_ipython()
    if shell is None:
        return None
    # The running cell's ExecutionResult holds its count. `shell.execution_count` does not: IPython 9
    # increments it before the cell runs (older versions after), so it would name the next cell.
    running = getattr(getattr(shell, "displayhook", None), "exec_result", None)
    return running.execution_count if running is not None else shell.execution_count


def recorded():
    """Every claim checked in this process so far (held or not), as dicts, oldest first."""
    return [dict(record) for record in _RECORDED]


def parse_line(line):
    """`{"measured", "bound_text"}` of a printed claim line, or None for any other line.

    "measured" is the name and the value ("two layers copy the repeat: accuracy 0.993"); a claim
    named `name` printed the line when `measured.startswith(name + " ")`.
    """
    found = LINE.match(line.rstrip("\n"))
    if found is None:
        return None
    return {"measured": found["measured"], "bound_text": found["bound"]}
