"""`scripts/set_repository.py`: every launch link follows pyproject.toml's Repository, in one step."""

from __future__ import annotations

import shutil

import pytest

from scripts.set_repository import ROOT, configured_repository, files, set_repository


def test_every_launch_link_agrees_with_pyproject():
    assert set_repository(check=True) == [], "run: python scripts/set_repository.py"


@pytest.fixture
def copy_of_project(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("*.cfg"))
    return tmp_path


def test_renaming_rewrites_every_link_and_only_the_links(copy_of_project):
    root = copy_of_project
    old = configured_repository(root)
    before = {path.name: path.read_bytes() for path in files(root)}

    changed = set_repository("someone-else/attention.course", root=root)

    assert sorted(p.name for p in changed) == sorted(before)
    assert configured_repository(root) == "someone-else/attention.course"
    assert set_repository(root=root, check=True) == []
    for path in files(root):
        text = path.read_text(encoding="utf-8")
        assert old not in text, f"{path.name} still names {old}"
        assert "colab.research.google.com/github/someone-else/attention.course/blob/main/notebooks/" in text
        assert "mybinder.org/v2/gh/someone-else/attention.course/main?urlpath=" in text
        if path.suffix == ".ipynb":
            assert 'git+https://github.com/someone-else/attention.course\\"' in text  # a quote, JSON-escaped

    set_repository(old, root=root)  # and back: byte for byte what it was, outputs and layout included
    assert {path.name: path.read_bytes() for path in files(root)} == before


@pytest.mark.parametrize("bad", ["no-slash", "owner/name/extra", "https://github.com/a/b", "a b/c"])
def test_a_malformed_repository_is_refused_with_what_was_received(bad, copy_of_project):
    with pytest.raises(ValueError, match=r"expected 'OWNER/NAME'.*Received"):
        set_repository(bad, root=copy_of_project)
