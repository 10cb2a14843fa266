"""LR range test: python src/find_lr.py [key=value ...]; writes lr_find.png and lr_find.json."""

import hydra
from omegaconf import DictConfig

from mlplab.cli import run_dir, user_errors_exit
from mlplab.training.checks import validate


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
@user_errors_exit
def main(cfg: DictConfig) -> None:
    cfg = validate(cfg)
    from mlplab.training.lr_finder import find_lr

    out = run_dir()
    suggestion = find_lr(cfg, out)
    shown = "none (see the figure)" if suggestion is None else f"{suggestion:.4g}"
    print(f"suggested lr: {shown}; figure and curve: {out}/lr_find.png, {out}/lr_find.json")


if __name__ == "__main__":
    main()
