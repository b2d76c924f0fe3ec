#!/usr/bin/env python3
"""Point every launch link at one GitHub repository, the one `pyproject.toml` names.

The repository's address is written in one place, `[project.urls] Repository` in `pyproject.toml`.
Three kinds of link repeat it: the Colab and Binder badges (each notebook's first cell and the
README's table) and the Colab install cell (`pip install ... git+https://github.com/OWNER/NAME`).
This script rewrites all of them from `pyproject.toml`, so that publishing the project under
another name changes one line:

    python scripts/set_repository.py                      # rewrite the links from pyproject.toml
    python scripts/set_repository.py my-org/attention     # set pyproject.toml's Repository, then rewrite
    python scripts/set_repository.py --check              # exit 1 if any link disagrees (nothing written)

Only cell sources change; outputs, execution counts and metadata are left as they are, so the
notebooks need no re-execution. `tests/test_notebook_hygiene.py` runs the `--check` form.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWNER_NAME = r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?"
# Each pattern keeps its groups 1 and 3 and puts the repository ("owner/name") in between.
LINKS = [
    re.compile(rf"(https://colab\.research\.google\.com/github/)({OWNER_NAME})(/blob/)"),
    re.compile(rf"(https://mybinder\.org/v2/gh/)({OWNER_NAME})(/main\?urlpath=)"),
    re.compile(rf"(git\+https://github\.com/)({OWNER_NAME})((?:\.git)?(?:@[\w.-]+)?[\"'\s])"),
]
REPOSITORY_LINE = re.compile(r'^(Repository\s*=\s*")https://github\.com/[^"]*(")', re.MULTILINE)
VALID = re.compile(rf"^{OWNER_NAME}$".replace("+?", "+"))


def configured_repository(root=ROOT):
    """`owner/name` from `pyproject.toml`'s `[project.urls] Repository`."""
    url = tomllib.loads((root / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    prefix = "https://github.com/"
    if not url.startswith(prefix) or not VALID.match(url.removeprefix(prefix)):
        raise ValueError(f"pyproject.toml: expected Repository = \"{prefix}OWNER/NAME\". Received: {url!r}")
    return url.removeprefix(prefix)


def rewrite_text(text, repository):
    """`text` with every launch or install link pointing at `repository`; also the number of links."""
    count = 0
    for pattern in LINKS:
        text, n = pattern.subn(lambda m: m[1] + repository + m[3], text)
        count += n
    return text, count


def _rewrite_notebook(path, repository):
    """Rewrite the links in a notebook's cell sources; return (new file text or None, links found)."""
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    found = 0
    changed = False
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        new, n = rewrite_text(source, repository)
        found += n
        if new != source:
            cell["source"] = new.splitlines(keepends=True) if isinstance(cell["source"], list) else new
            changed = True
    if not changed:
        return None, found
    # The layout nbformat.write uses (scripts/execute_notebooks.py writes with it): one-space indent.
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n", found


def files(root=ROOT):
    """Every file that carries launch links: the README and each notebook."""
    return [root / "README.md", *sorted((root / "notebooks").glob("*.ipynb"))]


def set_repository(repository=None, root=ROOT, check=False):
    """Point every link at `repository` (default: pyproject's); return the files that (would) change."""
    if repository is not None:
        if not VALID.match(repository):
            raise ValueError(f"repository: expected 'OWNER/NAME' as on GitHub. Received: {repository!r}")
        pyproject = root / "pyproject.toml"
        text = pyproject.read_text()
        new, n = REPOSITORY_LINE.subn(lambda m: f"{m[1]}https://github.com/{repository}{m[2]}", text)
        if n != 1:
            raise ValueError("pyproject.toml: expected one line 'Repository = \"https://github.com/...\"'")
        if new != text and not check:
            pyproject.write_text(new)
    repository = repository or configured_repository(root)
    changed = []
    for path in files(root):
        if path.suffix == ".ipynb":
            new, found = _rewrite_notebook(path, repository)
        else:
            text = path.read_text(encoding="utf-8")
            new, found = rewrite_text(text, repository)
            new = None if new == text else new
        if found == 0:
            raise ValueError(f"{path.relative_to(root)}: no Colab, Binder or install link found")
        if new is not None:
            changed.append(path)
            if not check:
                path.write_text(new, encoding="utf-8")
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repository", nargs="?", help="OWNER/NAME; also written to pyproject.toml")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a link disagrees")
    args = parser.parse_args(argv)
    changed = set_repository(args.repository, check=args.check)
    target = args.repository or configured_repository()
    for path in changed:
        print(f"{'disagrees with' if args.check else 'now points at'} {target}: {path.relative_to(ROOT)}")
    if args.check and changed:
        print("run: python scripts/set_repository.py", file=sys.stderr)
        return 1
    if not changed:
        print(f"every launch link points at {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
