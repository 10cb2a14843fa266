"""Train the MLP: python src/train.py [group=option] [key=value ...]."""

import hydra
from omegaconf import DictConfig

from mlplab.cli import run_dir, user_errors_exit
from mlplab.training.checks import validate


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
@user_errors_exit
def main(cfg: DictConfig) -> None:
    cfg = validate(cfg)  # before importing torch: a typo costs a second, not a run
    from mlplab.training.run import train

    train(cfg, run_dir())


if __name__ == "__main__":
    main()
