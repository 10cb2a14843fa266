"""Prepare a dataset: python src/prepare.py data=circles -> data/prepared/circles/."""

import hydra
from omegaconf import DictConfig

from mlplab.cli import user_errors_exit
from mlplab.config.rules import plain
from mlplab.data.checks import validate_data


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
@user_errors_exit
def main(cfg: DictConfig) -> None:
    cfg = validate_data(cfg)
    from mlplab.data.store import prepare

    data = plain(cfg.data)
    prepare(cfg.paths.data_dir, data["name"], data["source"], data["split"])


if __name__ == "__main__":
    main()
