"""Score a checkpoint on its test split: python src/evaluate.py evaluate.checkpoint=PATH."""

from omegaconf import DictConfig

from mlplab.cli import hydra_app, run_dir
from mlplab.config.rules import plain
from mlplab.training.checks import validate_evaluate


@hydra_app("train", check=validate_evaluate)
def main(cfg: DictConfig) -> None:
    cfg = validate_evaluate(cfg)
    from mlplab.data.store import prepared_dir
    from mlplab.evaluation.evaluate import evaluate_checkpoint, write_evaluation
    from mlplab.training.provenance import write_run_record

    write_run_record(run_dir(), cfg)
    data = cfg.data
    evaluation = evaluate_checkpoint(
        cfg.evaluate.checkpoint,
        prepared_dir(cfg.paths.data_dir, data.name, plain(data.source), plain(data.split)),
        plain(data.split),
        cfg.evaluate.batch_size,
    )
    write_evaluation(evaluation, run_dir())
    scalars = {k: v for k, v in evaluation.metrics.items() if isinstance(v, float)}
    print(", ".join(f"{k} {v:.4f}" for k, v in scalars.items()))


if __name__ == "__main__":
    main()
