"""Frame images decoded at what they are: bit depth, channels, palette and EXIF orientation.

- JPEG: 8-bit, decoded by libjpeg straight to grey or colour (as every earlier version did).
- PNG, TIFF and BMP are decoded unchanged, then:
    * 8-bit pixels are kept; 16-bit pixels are scaled to the model's 0..255 range,
      ``round(v * 255 / 65535)`` (the full 16-bit range; never the high or low byte alone);
      floating-point or 32-bit images are refused, naming the file and the type;
    * grey stays grey, colour is BGR; an alpha channel (RGBA, grey + alpha, a palette with
      transparency) is dropped, and the caller notes it once per video; palette images are
      expanded to their colours by the decoder (never read as palette indices).
- EXIF orientation (JPEG APP1, PNG ``eXIf``, TIFF tag 274) is applied: a frame is read the way
  an image viewer shows it; a rotated frame then has its displayed size, and a frame whose size
  differs from its video's first frame is an error naming it (``vad.data.sources``).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vad.errors import DataError

_PNG = b"\x89PNG\r\n\x1a\n"
_TIFF = (b"II*\x00", b"MM\x00*")
_ORIENTATION_TAG = 0x0112
#: flags that keep depth and colour and let OpenCV apply the EXIF orientation (alpha is dropped)
_ORIENTED = cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR


def decode_frame(path: Path, data: np.ndarray, channels: int) -> tuple[np.ndarray, bool]:
    """``data`` (the bytes of the image file ``path``) as uint8 grey (H, W) for ``channels=1``
    or RGB (H, W, 3) for ``channels=3``, and whether an alpha channel was dropped."""
    if path.suffix.lower() in (".jpg", ".jpeg"):
        flag = cv2.IMREAD_GRAYSCALE if channels == 1 else cv2.IMREAD_COLOR
        image = _decode(data, flag, path)
        return (image if channels == 1 else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)), False
    image = _decode(data, cv2.IMREAD_UNCHANGED, path)
    alpha = image.ndim == 3 and image.shape[2] in (2, 4)
    if exif_orientation(data.tobytes()) != 1:
        image = _decode(data, _ORIENTED, path)  # OpenCV rotates / flips it; no alpha
    return to_uint8(_channels(_drop_alpha(image), channels), path), alpha


def to_uint8(image: np.ndarray, path: Path) -> np.ndarray:
    """8-bit pixels as they are, 16-bit ones scaled by 255 / 65535 and rounded; other types are
    a DataError naming ``path``."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return ((image.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    raise DataError(
        f"{path}: {image.dtype} pixels are not read (8- or 16-bit integer images are); "
        "convert the frames, e.g. to 16-bit PNG"
    )


def exif_orientation(data: bytes) -> int:
    """The EXIF orientation (1 to 8) of PNG or TIFF file bytes; 1 when there is none."""
    if data[:8] == _PNG:
        tiff = _png_exif(data)
    elif data[:4] in _TIFF:
        tiff = data
    else:
        return 1
    return _tiff_orientation(tiff) if tiff else 1


def _decode(data: np.ndarray, flag: int, path: Path) -> np.ndarray:
    image = cv2.imdecode(data, flag)
    if image is None:
        raise DataError(f"{path}: cannot decode frame image (corrupt or not an image)")
    return image


def _drop_alpha(image: np.ndarray) -> np.ndarray:
    """Grey + alpha -> grey, BGRA -> BGR; other images unchanged."""
    if image.ndim == 3 and image.shape[2] == 2:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        return image[:, :, :3]
    return image


def _channels(image: np.ndarray, channels: int) -> np.ndarray:
    """A grey or BGR image (any depth) as grey (H, W) or RGB (H, W, 3)."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if channels == 1:
        return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _png_exif(data: bytes) -> bytes | None:
    """The payload of a PNG's ``eXIf`` chunk (a TIFF structure), or None."""
    position = 8
    while position + 8 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        if kind == b"eXIf":
            return data[position + 8 : position + 8 + length]
        if kind == b"IEND":
            return None
        position += 12 + length
    return None


def _tiff_orientation(tiff: bytes) -> int:
    """Tag 274 of the first image directory of a TIFF structure; 1 when absent or invalid."""
    if len(tiff) < 8 or tiff[:4] not in _TIFF:
        return 1
    order = "little" if tiff[:2] == b"II" else "big"
    directory = int.from_bytes(tiff[4:8], order)
    count = int.from_bytes(tiff[directory : directory + 2], order)
    for i in range(count):
        entry = directory + 2 + 12 * i
        if entry + 12 > len(tiff):
            break
        if int.from_bytes(tiff[entry : entry + 2], order) == _ORIENTATION_TAG:
            value = int.from_bytes(tiff[entry + 8 : entry + 10], order)
            return value if 1 <= value <= 8 else 1
    return 1


def read_mask_image(path: Path) -> np.ndarray:
    """A mask image as bool (H, W): a pixel is set when any colour channel is non-zero, at any
    bit depth (a 16-bit mask of small values is not reduced to zeros)."""
    image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DataError(f"{path}: cannot decode mask image")
    image = _drop_alpha(image)
    return image.any(axis=2) if image.ndim == 3 else image > 0
