"""STAE: spatio-temporal autoencoder with reconstruction and prediction branches.

The classes load on first use, so that ``vad.models.stae.scoring`` (the branch mix an exported
STAE's runtime applies) imports without Lightning."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vad.models.stae.lightning_model import STAEModule
    from vad.models.stae.torch_model import STAE

__all__ = ["STAE", "STAEModule"]


def __getattr__(name: str) -> Any:
    if name == "STAEModule":
        from vad.models.stae.lightning_model import STAEModule

        return STAEModule
    if name == "STAE":
        from vad.models.stae.torch_model import STAE

        return STAE
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
