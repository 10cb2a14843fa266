"""Write reports/report.md and its figures from the pipeline's metrics and plots files."""

import json
from pathlib import Path

import hydra
from omegaconf import DictConfig

from mlplab.cli import run_dir, user_errors_exit
from mlplab.config import validate


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
@user_errors_exit
def main(cfg: DictConfig) -> None:
    cfg = validate(cfg)
    from mlplab.reporting.report import build_report

    model = cfg.model
    summary = {
        "dataset": cfg.data.name,
        "model": f"MLP {list(model.hidden_sizes)}, {model.activation}, norm={model.norm}, "
        f"dropout={model.dropout}",
        "optimizer": f"{cfg.optimizer._target_.rsplit('.', 1)[-1]} (lr={cfg.optimizer.lr})",
        "seed": f"{cfg.seed} (split seed {cfg.data.split.seed})",
    }
    meta_file = Path(cfg.paths.data_dir) / cfg.data.name / "meta.json"
    if meta_file.is_file():
        split = json.loads(meta_file.read_text()).get("split", {})
        summary["split"] = f"{split.get('digest')} (train/val/test = {split.get('sizes')})"
    out = run_dir()
    print(f"wrote {build_report(out, out / 'reports', summary)}")


if __name__ == "__main__":
    main()
