"""Write reports/report.md, reports/report.html and reports/figures/ from the run directory's
files: python src/report.py (the DVC stage runs it with run directory `.`)."""

from omegaconf import DictConfig

from mlplab.cli import hydra_app, run_dir
from mlplab.config.rules import typed
from mlplab.config.schema import Config


def check(cfg: DictConfig) -> DictConfig:
    return typed(cfg, Config)  # the report only describes the run; train validated it


@hydra_app("train", check=check)
def main(cfg: DictConfig) -> None:
    cfg = check(cfg)
    from mlplab.reporting.report import recorded_config, write_report

    out = run_dir()  # a train.py run's own directory, or `.` for the pipeline
    for path in write_report(out, out / "reports", recorded_config(out) or cfg):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
