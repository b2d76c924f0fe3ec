"""Argument checks shared by the package: every error names the argument and the value received."""

from __future__ import annotations

import numbers

import numpy as np


def check_int(name, value, *, minimum=None, maximum=None):
    """Return `value` as an int, or raise if it is not an integer in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer. Received: {name}={value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}. Received: {name}={value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"`{name}` must be <= {maximum}. Received: {name}={value}")
    return value


def check_layer_int(name, value, minimum=1):
    """`check_int` for a layer's size argument: a value that is not an integer (2.5, "4") raises a
    ValueError, as Keras's layers do, so every layer of the package raises the same error."""
    try:
        return check_int(name, value, minimum=minimum)
    except TypeError as error:
        raise ValueError(str(error)) from None


def check_key_value_heads(num_heads, num_key_value_heads):
    """Grouped-query attention's key/value heads: None (one per head) or a divisor of `num_heads`."""
    if num_key_value_heads is None:
        return None
    num_key_value_heads = check_layer_int("num_key_value_heads", num_key_value_heads)
    if num_heads % num_key_value_heads:
        raise ValueError(
            "`num_heads` must be a multiple of `num_key_value_heads`. "
            f"Received: num_heads={num_heads}, num_key_value_heads={num_key_value_heads}"
        )
    return num_key_value_heads


def check_seed(value):
    """A seed is None or a non-negative integer."""
    if value is None:
        return None
    return check_int("seed", value, minimum=0)


def check_index(name, value, size, size_name):
    """An index into an axis of length `size` (negative indices are refused: they hide mistakes)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer. Received: {name}={value!r} ({type(value).__name__})")
    if not 0 <= value < size:
        raise ValueError(f"`{name}` must be in [0, {size - 1}] ({size_name}={size}). Received: {name}={value}")
    return int(value)


def check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return bool(value)


def check_rate(name, value):
    """A dropout rate: a number in [0, 1), returned as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be a number in [0, 1). Received: {name}={value!r}")
    return float(value)


def check_one_of(name, value, allowed):
    if value not in allowed:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one of {sorted(allowed)}. Received: {name}={value!r}"
        )
    return value


def as_array(name, value, *, ndim=None, min_ndim=None, dtype=float):
    """Convert to a NumPy array and check its rank, naming the argument on failure."""
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"`{name}` must be array-like of numbers. Received: {name} of type {type(value).__name__}"
        ) from error
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"`{name}` must have rank {ndim}. Received: {name} with shape {array.shape}")
    if min_ndim is not None and array.ndim < min_ndim:
        raise ValueError(f"`{name}` must have rank >= {min_ndim}. Received: {name} with shape {array.shape}")
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must be finite. Received: {name} containing NaN or inf")
    return array
