"""Train one anomaly model: ``python train.py model=unet data=ped2 data.root=PATH``."""

import hydra
from omegaconf import DictConfig

from vad.cli.error_messages import user_errors
from vad.cli.extras import exit_if_an_extra_is_missing
from vad.tasks.train import train
from vad.utils.signals import terminate_like_interrupt


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    with user_errors():
        return train(cfg)


if __name__ == "__main__":
    exit_if_an_extra_is_missing()
    terminate_like_interrupt()
    main()
