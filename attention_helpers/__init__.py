"""attention_helpers: the layers, data, plots and explorers behind the "attention, step by step" notebooks.

Importing the package is cheap and does not import Keras or TensorFlow, so that
`setup_notebook()` can quiet TensorFlow's logging before TensorFlow loads. The submodules
(`claims`, `data`, `layers`, `models`, `gan`, `gpt`, `circuits`, `seq2seq`, `activations`, `plotting`, `widgets`,
`exercises`, `pretrained`, `reference`, `vision`) load on first use.
"""

from __future__ import annotations

import importlib

from attention_helpers._setup import setup_notebook, versions
from attention_helpers.claims import claim

__version__ = "0.1.0"

_SUBMODULES = (
    "activations",
    "claims",
    "data",
    "circuits",
    "exercises",
    "gan",
    "gpt",
    "layers",
    "models",
    "plotting",
    "pretrained",
    "reference",
    "seq2seq",
    "vision",
    "widgets",
)

__all__ = ["__version__", "claim", "setup_notebook", "versions", *_SUBMODULES]


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"attention_helpers.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'attention_helpers' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
