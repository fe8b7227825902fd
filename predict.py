"""Score videos with a trained model: ``python predict.py ckpt_path=outputs/train/<run>``."""

import hydra
from omegaconf import DictConfig

from vad.cli.error_messages import user_errors
from vad.cli.extras import exit_if_an_extra_is_missing
from vad.tasks.predict import predict
from vad.utils.signals import terminate_like_interrupt


@hydra.main(version_base="1.3", config_path="conf", config_name="predict")
def main(cfg: DictConfig) -> float | None:
    with user_errors():
        return predict(cfg)


if __name__ == "__main__":
    exit_if_an_extra_is_missing()
    terminate_like_interrupt()
    main()
