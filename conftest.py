"""pytest configuration shared by the unit tests and nbval.

nbval compares every stored output of every notebook cell; stderr is left out of that comparison
(library warnings differ between machines). The hygiene test in tests/ still fails on any stderr
output committed in a notebook.
"""


def pytest_collectstart(collector):
    path = getattr(collector, "path", None)
    if path is not None and path.suffix == ".ipynb" and hasattr(collector, "skip_compare"):
        collector.skip_compare = (*collector.skip_compare, "stderr")
