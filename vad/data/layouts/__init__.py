"""Dataset layouts: small adapters that turn a dataset folder into a video table."""

from vad.data.layouts.avenue import AvenueLayout
from vad.data.layouts.folder import FolderLayout
from vad.data.layouts.frames import FramesLayout
from vad.data.layouts.layout import Layout
from vad.data.layouts.pixelplay import PixelplayLayout
from vad.data.layouts.shanghaitech import ShanghaiTechLayout
from vad.data.layouts.synthetic import SyntheticLayout
from vad.data.layouts.ucsd import UCSDLayout

__all__ = [
    "AvenueLayout",
    "FolderLayout",
    "FramesLayout",
    "Layout",
    "PixelplayLayout",
    "ShanghaiTechLayout",
    "SyntheticLayout",
    "UCSDLayout",
]
