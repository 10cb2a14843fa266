"""Predict a table: python src/predict.py ckpt_path=models/best.ckpt input=new.csv output=out.csv.

Writes `output` only: the input's non-feature columns (IDs, labels) and `predicted` (plus
`confidence` for classification), one row per input row, in input order.
"""

from omegaconf import DictConfig

from mlplab.cli import hydra_app
from mlplab.config.predict import validate_predict


@hydra_app("predict", check=validate_predict, announce=False)  # not a run: no run directory
def main(cfg: DictConfig) -> None:
    cfg = validate_predict(cfg)  # before importing torch: a typo costs a second
    from mlplab.evaluation.predict import predict_file, write_predictions

    result = predict_file(cfg.ckpt_path, cfg.input, cfg.batch_size)
    write_predictions(result, cfg.output)
    print(f"wrote {len(result)} predictions to {cfg.output}")


if __name__ == "__main__":
    main()
