"""``VideoDataModule``: a dataset (``vad.data.video_data.VideoData``) as the Lightning
DataModule the Trainer loads. Code that scores without a Trainer (an ONNX model) uses
``VideoData`` itself and never imports Lightning."""

from __future__ import annotations

import lightning as L

from vad.data.video_data import NATIVE, SAMPLINGS, VideoData, native_size

__all__ = ["NATIVE", "SAMPLINGS", "VideoDataModule", "native_size"]


class VideoDataModule(VideoData, L.LightningDataModule):
    """``VideoData``'s splits, clips and loaders (``prepare_data``, ``*_dataloader``) with the
    DataModule's hooks; the arguments are ``VideoData``'s."""
