"""Score columns from a model's error maps, standardised by what validation measured.

``location_z`` (``vad.models.location``): how unusual each place's error is for that place.
``region`` (``vad.models.region_scores``, with ``regions``): the error inside the motion regions.
Both need moments of the held-out normal validation clips (``vad.models.fitted``); before the
first validation epoch the columns are absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from vad.models import location, region_scores
from vad.models.fitted import FittedStatistics

if TYPE_CHECKING:
    from vad.models.prediction import Prediction


class MapScores:
    """Declares its moments in ``fitted``, measures them (``update``) and scores (``columns``)."""

    def __init__(
        self,
        fitted: FittedStatistics,
        image_size: Sequence[int],
        patch_size: int,
        with_regions: bool = False,
    ) -> None:
        self.fitted, self.regions = fitted, bool(with_regions)
        self.pooling = location.pooling(image_size, patch_size)
        fitted.declare(location.MOMENT, location.grid_shape(image_size, patch_size))
        if self.regions:
            fitted.declare(region_scores.MOMENT, ())

    def columns(self, out: Prediction) -> dict[str, torch.Tensor]:
        maps, columns = out.error_maps().flatten(0, 1), {}
        if self.fitted.is_fitted(location.MOMENT):
            mean, std = self.fitted.mean(location.MOMENT), self.fitted.std(location.MOMENT)
            columns[location.COLUMN] = location.location_z(maps[:, None], mean, std, *self.pooling)
        if self.regions and self.fitted.is_fitted(region_scores.MOMENT):
            mean, std = (
                self.fitted.mean(region_scores.MOMENT),
                self.fitted.std(region_scores.MOMENT),
            )
            boxes = out.extra["boxes"].flatten(0, 1)
            columns[region_scores.COLUMN] = region_scores.region_z(maps, boxes, mean, std)
        return columns

    def maps(self, out: Prediction) -> dict[str, torch.Tensor]:
        """Per-pixel maps (B, P, H, W) beside the error map: ``region`` once it is fitted."""
        if not (self.regions and self.fitted.is_fitted(region_scores.MOMENT)):
            return {}
        errors = out.error_maps()
        moment = region_scores.MOMENT
        mean, std = self.fitted.mean(moment), self.fitted.std(moment)
        painted = region_scores.region_map(
            errors.flatten(0, 1), out.extra["boxes"].flatten(0, 1), mean, std
        )
        return {region_scores.COLUMN: painted.view(errors.shape)}

    def update(self, out: Prediction) -> None:
        maps = out.error_maps().flatten(0, 1)
        self.fitted.update(location.MOMENT, location.log_patch_errors(maps[:, None], *self.pooling))
        if self.regions:
            boxes = out.extra["boxes"].flatten(0, 1)
            self.fitted.update(region_scores.MOMENT, region_scores.log_box_errors(maps, boxes))
