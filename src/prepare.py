"""Prepare a dataset: python src/prepare.py data=circles -> data/prepared/circles/."""

from omegaconf import DictConfig

from mlplab.cli import hydra_app
from mlplab.config.rules import plain
from mlplab.data.checks import validate_data


@hydra_app("train", check=validate_data)
def main(cfg: DictConfig) -> None:
    cfg = validate_data(cfg)
    from mlplab.data.store import prepare

    data = plain(cfg.data)
    prepare(cfg.paths.data_dir, data["name"], data["source"], data["split"])


if __name__ == "__main__":
    main()
