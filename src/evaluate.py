"""Score a checkpoint on its test split: python src/evaluate.py evaluate.checkpoint=PATH."""

import hydra
from omegaconf import DictConfig

from mlplab.cli import run_dir, user_errors_exit
from mlplab.config.rules import plain
from mlplab.training.checks import validate


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
@user_errors_exit
def main(cfg: DictConfig) -> None:
    cfg = validate(cfg)
    from mlplab.evaluation.evaluate import evaluate_checkpoint, write_evaluation

    evaluation = evaluate_checkpoint(
        cfg.evaluate.checkpoint,
        f"{cfg.paths.data_dir}/{cfg.data.name}",
        plain(cfg.data.split),
        cfg.evaluate.batch_size,
    )
    write_evaluation(evaluation, run_dir())
    scalars = {k: v for k, v in evaluation.metrics.items() if isinstance(v, float)}
    print(", ".join(f"{k} {v:.4f}" for k, v in scalars.items()))


if __name__ == "__main__":
    main()
