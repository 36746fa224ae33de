"""Vectorized string building: numpy byte matrices straight into Arrow string arrays.

Per-row Python string formatting is far too slow for tens of millions of rows, so ids,
UUIDs and phone numbers are assembled as ``uint8`` matrices and handed to Arrow as
buffers without copying row by row.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# every byte value as its two hex digits, laid out so that a uint16 view is the text
_HEX_PAIRS = np.frombuffer(b"".join(f"{b:02x}".encode() for b in range(256)), dtype=np.uint16)
_HEX_PAIRS_UPPER = np.frombuffer(b"".join(f"{b:02X}".encode() for b in range(256)), dtype=np.uint16)


def fixed_width(mat: np.ndarray) -> pa.StringArray:
    """Rows of an ``(n, w)`` ASCII byte matrix as an Arrow string array of width ``w``."""
    mat = np.ascontiguousarray(mat, dtype=np.uint8)
    n, w = mat.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(mat))


def ragged(mat: np.ndarray, lengths: np.ndarray) -> pa.StringArray:
    """Rows of a left-aligned, padded byte matrix, each cut to its own length."""
    mat = np.ascontiguousarray(mat, dtype=np.uint8)
    n, w = mat.shape
    keep = np.arange(w)[None, :] < lengths[:, None]
    data = mat[keep]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as an ``(n, width)`` byte matrix."""
    values = np.asarray(values, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((values[:, None] // powers[None, :]) % 10 + 48).astype(np.uint8)


def prefixed_ids(prefix: str, values: np.ndarray, width: int) -> pa.StringArray:
    """Ids such as ``C0000042``: a fixed prefix followed by zero-padded digits."""
    values = np.asarray(values, dtype=np.int64)
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    mat = np.empty((len(values), len(head) + width), dtype=np.uint8)
    mat[:, : len(head)] = head
    mat[:, len(head):] = digits(values, width)
    return fixed_width(mat)


def uuids(rng: np.random.Generator, n: int, upper: bool = False) -> pa.StringArray:
    """Random version-4 UUID strings (``8-4-4-4-12`` hex), reproducible from ``rng``."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    pairs = (_HEX_PAIRS_UPPER if upper else _HEX_PAIRS)[raw].view(np.uint8).reshape(n, 32)
    mat = np.full((n, 36), ord("-"), dtype=np.uint8)
    for src, dst in ((0, 0), (8, 9), (12, 14), (16, 19), (20, 24)):  # 8-4-4-4-12
        width = 12 if src == 20 else (8 if src == 0 else 4)
        mat[:, dst:dst + width] = pairs[:, src:src + width]
    return fixed_width(mat)


def hex_tokens(rng: np.random.Generator, prefix: str, n: int, nbytes: int = 8) -> pa.StringArray:
    """Opaque tokens such as ``tok_9f2c…``: a prefix and ``2 * nbytes`` random hex digits."""
    raw = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    mat = np.empty((n, len(head) + 2 * nbytes), dtype=np.uint8)
    mat[:, : len(head)] = head
    mat[:, len(head)::2] = _HEX[raw >> 4]
    mat[:, len(head) + 1::2] = _HEX[raw & 0x0F]
    return fixed_width(mat)


def pick(values: list[str] | pa.Array, index: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """``values[index]`` as an Arrow array; rows where ``null_mask`` is true become null."""
    arr = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
    idx = pa.array(np.asarray(index, dtype=np.int64), mask=null_mask)
    return arr.take(idx)


def with_nulls(arr: pa.Array, null_mask: np.ndarray) -> pa.Array:
    """``arr`` with the rows where ``null_mask`` is true set to null."""
    if not null_mask.any():
        return arr
    return arr.take(pa.array(np.arange(len(arr), dtype=np.int64), mask=null_mask))


def timestamps(micros: np.ndarray, null_mask: np.ndarray | None = None, tz: str | None = "UTC") -> pa.Array:
    """Microseconds since the epoch as an Arrow timestamp array (UTC unless ``tz`` is None)."""
    return pa.array(np.asarray(micros, dtype=np.int64), type=pa.timestamp("us", tz=tz), mask=null_mask)
