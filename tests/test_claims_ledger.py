"""The claims ledger (notebooks/claims_ledger.json, CLAIMS.md) and the committed notebooks stay in step.

`scripts/check_claims_across_seeds.py --write-ledger` re-runs a notebook with setup seeds 0-19 and
records every `ah.claim`. Values may be re-measured, but a claim's name and bound may not drift from
what the committed notebook prints, every claim must hold for every seed, and a claim from live
training must not read a constant.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from attention_helpers.claims import parse_line
from scripts.check_claims_across_seeds import (
    LEDGER_JSON,
    LEDGER_MD,
    LEDGER_SEEDS,
    is_constant,
    ledger_entry,
    margin,
    render_ledger,
)
from scripts.execute_notebooks import NOTEBOOKS

PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
LEDGER = json.loads(LEDGER_JSON.read_text(encoding="utf-8")) if LEDGER_JSON.exists() else {"notebooks": {}}


def claim_lines(path):
    """(cell index, parsed claim line) for every claim line in the committed outputs of `path`."""
    found = []
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                found += [(index, parsed) for parsed in map(parse_line, output["text"].splitlines()) if parsed]
    return found


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name[:2])
def test_ledger_names_and_bounds_match_the_committed_notebook(path):
    lines = claim_lines(path)
    entry = LEDGER["notebooks"].get(path.name)
    if entry is None:
        assert not lines, (f"{path.name} prints {len(lines)} claims but has no ledger entry: run "
                           f"`python scripts/check_claims_across_seeds.py notebooks/{path.name} --write-ledger`")
        return
    expected = [claim for claim in entry["claims"] if not claim["solution"]]
    unmatched = list(lines)
    for claim in expected:
        matches = [line for line in unmatched if line[1]["measured"].startswith(claim["name"] + " ")
                   and line[1]["bound_text"] == claim["bound_text"]]
        assert matches, (f"{path.name}: the ledger's claim {claim['name']!r} ({claim['bound_text']}) is not printed "
                         "by the committed notebook: re-run the sweep with --write-ledger")
        unmatched.remove(matches[0])
    assert not unmatched, f"{path.name}: claims printed but not in the ledger (re-run the sweep): {unmatched}"


@pytest.mark.parametrize("name", sorted(LEDGER["notebooks"]), ids=lambda n: n[:2])
def test_every_ledger_claim_holds_for_setup_seeds_0_to_19(name):
    entry = LEDGER["notebooks"][name]
    assert (NOTEBOOKS / name).exists(), f"the ledger has {name}, which is not a notebook"
    assert entry["seeds"] == LEDGER_SEEDS, f"{name} was swept over seeds {entry['seeds']}, not 0-19"
    assert entry["failed_seeds"] == [], f"{name}: runs failed for setup seeds {entry['failed_seeds']}"
    for claim in entry["claims"]:
        assert all(claim["values"][str(k)] is not None for k in LEDGER_SEEDS), f"{name}: {claim['name']!r} not reached"
        assert claim["failed"] == [] and margin(claim, list(claim["values"].values())) >= 0, claim["name"]
        assert not is_constant(claim), f"{name}: {claim['name']!r} comes from live training but never changes"
        if claim["evidence"] == "shipped":
            assert claim["runs"] >= 1


def test_claims_md_is_written_from_the_ledger():
    assert LEDGER_MD.read_text(encoding="utf-8") == render_ledger(LEDGER)


def _record(name, value, holds=True, op=">=", bound=0.5, evidence="training"):
    return {"name": name, "value": value, "op": op, "bound": bound, "bound_text": f"≥ {bound}", "evidence": evidence,
            "runs": None, "fmt": ".2f", "unit": "", "holds": holds, "cell": 3, "solution": False}


def test_ledger_entry_collects_values_per_seed_and_flags_constants(tmp_path):
    runs = {0: (None, [_record("accuracy", 0.9), _record("steps", 3.0)], 5.0),
            1: ("cell 4: ClaimError", [_record("accuracy", 0.4, holds=False), _record("steps", 3.0)], 6.0),
            2: ("cell 2: KeyError", [], 1.0)}
    entry = ledger_entry(tmp_path / "x.ipynb", [0, 1, 2], runs)
    accuracy, steps = entry["claims"]
    assert entry["failed_seeds"] == [1, 2] and entry["sweep_seconds"] == 12.0
    assert accuracy["values"] == {"0": 0.9, "1": 0.4, "2": None} and accuracy["failed"] == [1]
    assert margin(accuracy, [0.9, 0.4]) == pytest.approx(-0.1)
    assert is_constant(steps) and not is_constant(accuracy)
    assert not is_constant({**steps, "evidence": "computation"})  # a fixed computation may be constant
    text = render_ledger({"notebooks": {"x.ipynb": entry}})
    assert "| accuracy | ≥ 0.5 | live training | 0.90 | 0.40 | 0.65 | 0.90 | -0.10 | ✗ fails for seeds [1]; " in text
    assert "⚠ constant over seeds" in text and "**failed for seeds [1, 2]**" in text


def test_ledger_entry_refuses_repeated_names_and_drifting_bounds(tmp_path):
    with pytest.raises(ValueError, match=r"claim names must be unique in a notebook\. Repeated: \['a'\]"):
        ledger_entry(tmp_path / "x.ipynb", [0], {0: (None, [_record("a", 1), _record("a", 2)], 1.0)})
    with pytest.raises(ValueError, match="changed its bound or evidence with the seed"):
        ledger_entry(tmp_path / "x.ipynb", [0, 1], {0: (None, [_record("a", 1)], 1.0),
                                                    1: (None, [_record("a", 1, bound=0.7)], 1.0)})


@pytest.mark.parametrize(("op", "bound", "values", "expected"),
                         [(">=", 0.5, [0.6, 0.9], 0.1), ("<", 2.0, [1.0, 1.5], 0.5), ("between", [1, 3], [1.5, 2.8], 0.2)])
def test_margin_is_the_worst_distance_inside_the_bound(op, bound, values, expected):
    assert margin({"op": op, "bound": bound}, values) == pytest.approx(expected)
