"""LR range test: python src/find_lr.py [key=value ...]; writes lr_find.png and lr_find.json."""

from omegaconf import DictConfig

from mlplab.cli import hydra_app, run_dir
from mlplab.training.checks import validate


@hydra_app("train", check=validate)
def main(cfg: DictConfig) -> None:
    cfg = validate(cfg)
    from mlplab.training.lr_finder import find_lr
    from mlplab.training.provenance import write_run_record

    out = run_dir()
    write_run_record(out, cfg)
    suggestion = find_lr(cfg, out)
    shown = "none (see the figure)" if suggestion is None else f"{suggestion:.4g}"
    print(f"suggested lr: {shown}; figure and curve: {out}/lr_find.png, {out}/lr_find.json")


if __name__ == "__main__":
    main()
