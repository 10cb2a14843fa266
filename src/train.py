"""Train the MLP: python src/train.py [group=option] [key=value ...]."""

from omegaconf import DictConfig

from mlplab.cli import hydra_app, run_dir
from mlplab.training.checks import validate


@hydra_app("train", check=validate)
def main(cfg: DictConfig) -> None:
    cfg = validate(cfg)  # before importing torch: a typo costs a second, not a run
    from mlplab.training.provenance import write_run_record
    from mlplab.training.run import train

    write_run_record(run_dir(), cfg)
    train(cfg, run_dir())


if __name__ == "__main__":
    main()
