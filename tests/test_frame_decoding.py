"""Frames are decoded at what they are: each format is written here, then read back."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from vad.data.frame_decoding import exif_orientation
from vad.data.labels import labels_from_masks
from vad.data.masks import mask_files, read_masks
from vad.data.sources import FrameFolder, read_image
from vad.errors import DataError

H, W = 12, 16


def ramp16() -> np.ndarray:
    """16-bit grey values over the whole range, including 0, 65535 and values whose high byte
    alone (a truncation) differs from the rounded scaling."""
    values = np.linspace(0, 65535, H * W).round().astype(np.uint16)
    values[:4] = [0, 65535, 21000, 32767]
    return values.reshape(H, W)


def scaled(values: np.ndarray) -> np.ndarray:
    """The 8-bit values 16-bit pixels are read as: round(v * 255 / 65535)."""
    return np.round(values.astype(np.float64) * 255 / 65535).astype(np.uint8)


def colours() -> np.ndarray:
    """An RGB frame with pure red, green and blue columns (channel order is visible)."""
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[:, :4, 0], rgb[:, 4:8, 1], rgb[:, 8:12, 2] = 200, 150, 100
    rgb[:, 12:] = 40
    return rgb


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_grey_is_scaled_not_truncated(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"000{suffix}"
    assert cv2.imwrite(str(path), ramp16())
    grey = read_image(path, 1)
    assert grey.dtype == np.uint8 and (grey == scaled(ramp16())).all()
    assert grey[0, :4].tolist() == [0, 255, 82, 127]  # 21000 -> 81.7 -> 82 (its high byte: 82)
    rgb = read_image(path, 3)
    assert rgb.shape == (H, W, 3) and all((rgb[..., c] == grey).all() for c in range(3))


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_colour_is_scaled_in_rgb_order(tmp_path: Path, suffix: str) -> None:
    rgb16 = colours().astype(np.uint16) * 257  # 200 -> 51400: read back as 200 exactly
    rgb16[0, 0] = [65535, 300, 1]
    path = tmp_path / f"000{suffix}"
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR))
    rgb = read_image(path, 3)
    expected = colours()
    expected[0, 0] = scaled(np.array([65535, 300, 1]))
    assert (rgb == expected).all()
    grey = read_image(path, 1)
    assert abs(int(grey[5, 0]) - round(0.299 * 200)) <= 1  # red through the luma weights


@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp", ".jpg"])
def test_8_bit_grey_and_rgb(tmp_path: Path, suffix: str) -> None:
    grey_path, rgb_path = tmp_path / f"grey{suffix}", tmp_path / f"rgb{suffix}"
    grey = np.tile(np.arange(W, dtype=np.uint8) * 16, (H, 1))
    cv2.imwrite(str(grey_path), grey)
    cv2.imwrite(str(rgb_path), cv2.cvtColor(colours(), cv2.COLOR_RGB2BGR))
    if suffix == ".jpg":  # lossy: values near, the red columns red
        assert np.abs(read_image(grey_path, 1).astype(int) - grey).max() <= 3
        rgb = read_image(rgb_path, 3).astype(int)
        assert rgb[:, 1, 0].min() > 150 and rgb[:, 1, 1:].max() < 60
        return
    assert (read_image(grey_path, 1) == grey).all()
    assert (read_image(grey_path, 3) == np.dstack([grey] * 3)).all()
    assert (read_image(rgb_path, 3) == colours()).all()


def test_rgba_drops_alpha_keeps_colour_and_notes_it_once_per_video(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "01"
    folder.mkdir()
    bgra = np.dstack([cv2.cvtColor(colours(), cv2.COLOR_RGB2BGR), np.full((H, W), 7, np.uint8)])
    for i in range(3):
        cv2.imwrite(str(folder / f"{i:03d}.png"), bgra)
    with caplog.at_level(logging.WARNING):
        frames = [image for _, image in FrameFolder(folder).iter_frames(3)]
    assert all((f == colours()).all() for f in frames)
    notes = [r.getMessage() for r in caplog.records if "alpha" in r.getMessage()]
    assert len(notes) == 1 and str(folder) in notes[0] and "000.png" in notes[0]


@pytest.mark.parametrize("transparency", [False, True])
def test_palette_images_read_as_their_colours(tmp_path: Path, transparency: bool) -> None:
    palette = [200, 0, 0, 0, 150, 0, 0, 0, 100, 40, 40, 40]
    image = Image.new("P", (W, H))
    image.putpalette(palette + [0] * (768 - len(palette)))
    image.putdata([min(x // 4, 3) for _ in range(H) for x in range(W)])
    path = tmp_path / "000.png"
    image.save(path, **({"transparency": 3} if transparency else {}))
    assert (read_image(path, 3) == colours()).all()  # never the palette indices 0..3
    expected = cv2.cvtColor(colours(), cv2.COLOR_RGB2GRAY)
    assert np.abs(read_image(path, 1).astype(int) - expected).max() <= 1


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif"])
def test_exif_orientation_is_applied(tmp_path: Path, suffix: str) -> None:
    stored = np.zeros((H, W), np.uint8)
    stored[:3, :5] = 255  # a bright block at the stored top left
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / f"000{suffix}"
    image.save(path, exif=exif.tobytes())
    if suffix != ".jpg":
        assert exif_orientation(path.read_bytes()) == 6
    grey = read_image(path, 1)
    shown = np.rot90(stored, k=-1)
    assert grey.shape == (W, H)
    assert np.abs(grey.astype(int) - shown).max() <= (40 if suffix == ".jpg" else 0)


def test_exif_orientation_of_big_endian_tiff_bytes() -> None:
    entry = (0x0112).to_bytes(2, "big") + (3).to_bytes(2, "big") + (1).to_bytes(4, "big")
    tiff = b"MM\x00*" + (8).to_bytes(4, "big") + (1).to_bytes(2, "big") + entry
    assert exif_orientation(tiff + (8).to_bytes(2, "big") + b"\x00\x00") == 8
    assert exif_orientation(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16) == 1  # no eXIf chunk


def test_floating_point_frames_are_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "000.tif"
    assert cv2.imwrite(str(path), np.full((H, W), 0.5, np.float32))
    with pytest.raises(DataError, match="float32 pixels are not read") as info:
        read_image(path, 1)
    assert str(path) in str(info.value)


def test_a_frame_of_another_size_is_an_error_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "01"
    folder.mkdir()
    cv2.imwrite(str(folder / "000.png"), np.zeros((H, W), np.uint8))
    cv2.imwrite(str(folder / "001.png"), np.zeros((H, W + 2), np.uint8))
    with pytest.raises(DataError, match=r"frame size 18x12 differs from the video's first") as info:
        list(FrameFolder(folder).iter_frames(1))
    assert str(folder / "001.png") in str(info.value)


def test_16_bit_masks_of_small_values_keep_their_pixels(tmp_path: Path) -> None:
    folder = tmp_path / "01_gt"
    folder.mkdir()
    mask = np.zeros((H, W), np.uint16)
    mask[2:5, 3:7] = 1  # a label image: 1 = anomalous (its high byte is 0)
    cv2.imwrite(str(folder / "000.png"), mask)
    cv2.imwrite(str(folder / "001.png"), np.zeros((H, W), np.uint16))
    read = list(read_masks(folder))
    assert (read[0] == (mask > 0)).all() and not read[1].any()
    assert labels_from_masks(mask_files(folder)).tolist() == [1, 0]
