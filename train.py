"""Train one anomaly model: ``python train.py model=unet data=ped2 data.root=PATH``."""

import hydra
from omegaconf import DictConfig

from vad.tasks.train import train


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    return train(cfg)


if __name__ == "__main__":
    main()
