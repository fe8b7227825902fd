"""Stream arrays of unknown length into a ``.npy`` file with bounded memory."""

from __future__ import annotations

import struct
from pathlib import Path
from types import TracebackType

import numpy as np

_HEADER_BYTES = 128  # a multiple of 64, as the npy format asks; ample for a 4-d shape


class NpyStreamWriter:
    """Append equally shaped uint8/float arrays along a new first axis; the header is written last.

    The file follows the npy 1.0 format: magic, header length, a dict padded with spaces to a
    64-byte boundary, then the C-ordered data.
    """

    def __init__(self, path: str | Path, dtype: np.dtype | str = np.uint8) -> None:
        self.path, self.dtype = Path(path), np.dtype(dtype)
        self.count, self.item_shape = 0, None
        self._file = open(self.path, "wb")  # noqa: SIM115 (closed in close())
        self._file.write(b"\0" * _HEADER_BYTES)

    def append(self, item: np.ndarray) -> None:
        item = np.ascontiguousarray(item, dtype=self.dtype)
        if self.item_shape is None:
            self.item_shape = item.shape
        elif item.shape != self.item_shape:
            raise ValueError(f"{self.path}: item shape {item.shape} != {self.item_shape}")
        self._file.write(item.tobytes())
        self.count += 1

    def close(self) -> None:
        if self._file.closed:
            return
        shape = (self.count, *(self.item_shape or ()))
        self._file.seek(0)
        self._file.write(_header(self.dtype, shape))
        self._file.close()

    def __enter__(self) -> NpyStreamWriter:
        return self

    def __exit__(
        self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    text = (
        f"{{'descr': {np.lib.format.dtype_to_descr(dtype)!r}, 'fortran_order': False, "
        f"'shape': {shape!r}, }}"
    )
    body = _HEADER_BYTES - 10
    if len(text) + 1 > body:
        raise ValueError(f"npy header too long for shape {shape}")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", body) + (text.ljust(body - 1) + "\n").encode()
