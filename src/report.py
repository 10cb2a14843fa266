"""Write reports/report.md and its figures from the pipeline's metrics and plots files."""

import hydra
from omegaconf import DictConfig

from mlplab.cli import run_dir, user_errors_exit
from mlplab.config.rules import typed
from mlplab.config.schema import Config


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
@user_errors_exit
def main(cfg: DictConfig) -> None:
    cfg = typed(cfg, Config)  # the report only describes the run; train validated it
    from mlplab.reporting.report import build_report, run_summary

    out = run_dir()
    print(f"wrote {build_report(out, out / 'reports', run_summary(cfg))}")


if __name__ == "__main__":
    main()
