"""ah.claim: the line a student reads, the error when a bound fails, the record the seed sweep reads."""

import json

import numpy as np
import pytest

import attention_helpers as ah
from attention_helpers import claims


@pytest.mark.parametrize(
    ("value", "op", "bound", "line"),
    [
        (0.99312, ">=", 0.98, "✓ copy accuracy 0.993 (claimed ≥ 0.98)"),
        (0.98, ">=", 0.98, "✓ copy accuracy 0.98 (claimed ≥ 0.98)"),
        (0.5, "<", 0.6, "✓ copy accuracy 0.5 (claimed < 0.6)"),
        (0.6, "<=", 0.6, "✓ copy accuracy 0.6 (claimed ≤ 0.6)"),
        (np.float32(0.7), ">", 0.1, "✓ copy accuracy 0.7 (claimed > 0.1)"),
        (1.2, "between", (0.5, 2), "✓ copy accuracy 1.2 (claimed between 0.5 and 2)"),
    ],
)
def test_a_holding_claim_prints_measurement_beside_bound(capsys, value, op, bound, line):
    assert ah.claim("copy accuracy", value, op, bound, evidence="training") == pytest.approx(float(value))
    assert capsys.readouterr().out == line + "\n"


@pytest.mark.parametrize(
    ("value", "op", "bound"),
    [(0.97, ">=", 0.98), (0.98, ">", 0.98), (0.6, "<", 0.6), (0.61, "<=", 0.6), (2.5, "between", (0.5, 2))],
)
def test_a_failing_claim_raises_with_both_figures(capsys, value, op, bound):
    with pytest.raises(ah.claims.ClaimError, match=r"'copy accuracy' does not hold: measured .+, claimed .+"):
        ah.claim("copy accuracy", value, op, bound, evidence="training")
    assert capsys.readouterr().out == ""
    assert issubclass(ah.claims.ClaimError, AssertionError)  # the seed sweep reports it as a failed assert


def test_format_and_unit_apply_to_value_and_bound(capsys):
    ah.claim("cache saving", 4.0, ">=", 3.5, evidence="computation", fmt=".1f", unit="×")
    ah.claim("held-out share", 0.1994, "between", (0.1, 0.3), evidence="shipped", runs=3, fmt=".1%")
    ah.claim("loss", 2.436, "<", 2.5, evidence="training", fmt=".2f", unit=" nats")
    ah.claim("tiny", -1e-9, "<", 0.01, evidence="computation", fmt=".2f")
    assert capsys.readouterr().out.splitlines() == [
        "✓ cache saving 4.0× (claimed ≥ 3.5×)",
        "✓ held-out share 19.9% (claimed between 10.0% and 30.0%)",
        "✓ loss 2.44 nats (claimed < 2.50 nats)",
        "✓ tiny 0.00 (claimed < 0.01)",
    ]


def test_every_claim_is_recorded_in_order():
    before = len(claims.recorded())
    ah.claim("first", 3, ">", 1, evidence="shipped", runs=5)
    with pytest.raises(claims.ClaimError):
        ah.claim("second", 0.1, "between", (0.2, 0.3), evidence="computation")
    first, second = claims.recorded()[before:]
    assert first == {"name": "first", "value": 3.0, "op": ">", "bound": 1.0, "bound_text": "> 1", "evidence": "shipped",
                     "runs": 5, "fmt": ".3g", "unit": "", "holds": True, "execution_count": None}
    assert second["holds"] is False and second["bound"] == [0.2, 0.3] and second["runs"] is None
    claims.recorded().clear()  # a copy: the record itself is not changed from outside
    assert len(claims.recorded()) == before + 2


def test_parse_line_reads_back_what_claim_prints(capsys):
    ah.claim("two layers copy the repeat: accuracy", 0.99312, ">=", 0.98, evidence="training")
    ah.claim("loss with the mask", 2.436, "between", (2.0, 3.0), evidence="training", fmt=".2f", unit=" nats")
    first, second = (claims.parse_line(line) for line in capsys.readouterr().out.splitlines())
    assert first == {"measured": "two layers copy the repeat: accuracy 0.993", "bound_text": "≥ 0.98"}
    assert second == {"measured": "loss with the mask 2.44 nats", "bound_text": "between 2.00 nats and 3.00 nats"}
    assert claims.parse_line("✓ Correct: the check passed") is None
    assert claims.parse_line("accuracy 0.9 (claimed ≥ 0.8)") is None


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": ""}, TypeError, "`name` must be a non-empty one-line string"),
        ({"name": "a\nb"}, TypeError, "`name` must be a non-empty one-line string"),
        ({"op": "=="}, ValueError, r"argument `op`. Expected one of .*Received: op='=='"),
        ({"evidence": "seen"}, ValueError, r"argument `evidence`.*Received: evidence='seen'"),
        ({"evidence": "shipped"}, ValueError, r"`runs` must be the number of trainings.*Received: runs=None"),
        ({"evidence": "shipped", "runs": 0}, ValueError, r"Received: runs=0"),
        ({"runs": 3}, ValueError, r"`runs` is only for evidence='shipped'"),
        ({"value": "0.9"}, TypeError, r"`value` must be a single real number. Received: value='0.9'"),
        ({"value": np.array([0.9, 0.8])}, TypeError, r"`value` must be a single real number"),
        ({"value": True}, TypeError, r"`value` must be a single real number"),
        ({"value": float("nan")}, ValueError, r"`value` must be a number, not NaN"),
        ({"op": "between"}, TypeError, r"`bound` must be a pair \(low, high\) for op='between'. Received: bound=0.5"),
        ({"op": "between", "bound": (2, 1)}, ValueError, r"low <= high. Received: bound=\(2, 1\)"),
        ({"unit": " (nats)"}, TypeError, r"`fmt` and `unit` must be strings without parentheses"),
    ],
)
def test_bad_arguments_name_what_was_expected(kwargs, error, match):
    arguments = {"name": "accuracy", "value": 0.9, "op": ">=", "bound": 0.5, "evidence": "training", **kwargs}
    before = len(claims.recorded())
    with pytest.raises(error, match=match):
        ah.claim(arguments.pop("name"), arguments.pop("value"), arguments.pop("op"), arguments.pop("bound"), **arguments)
    assert len(claims.recorded()) == before  # nothing recorded for a claim that was never checked


def test_the_log_file_gets_one_json_line_per_claim(tmp_path, monkeypatch):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv(claims.LOG_VARIABLE, str(log))
    ah.claim("kept", 0.9, ">=", 0.5, evidence="training")
    with pytest.raises(claims.ClaimError):
        ah.claim("broken", 0.1, ">=", 0.5, evidence="training", fmt=".0%")
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [(r["name"], r["holds"], r["value"], r["fmt"]) for r in lines] == [("kept", True, 0.9, ".3g"),
                                                                             ("broken", False, 0.1, ".0%")]


def test_the_record_names_the_running_cell_not_the_next(monkeypatch):
    # IPython 9 increments shell.execution_count before a cell runs; the running cell's own count is its
    # ExecutionResult's. The seed sweep maps each claim to its cell by this count.
    from types import SimpleNamespace

    import IPython

    shell = SimpleNamespace(execution_count=8, displayhook=SimpleNamespace(exec_result=SimpleNamespace(execution_count=7)))
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    assert claims._execution_count() == 7
    shell.displayhook.exec_result = None  # outside a running cell: the shell's own count
    assert claims._execution_count() == 8
