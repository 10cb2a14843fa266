"""Write reports/report.md and its figures from the pipeline's metrics and plots files."""

from omegaconf import DictConfig

from mlplab.cli import hydra_app, run_dir
from mlplab.config.rules import typed
from mlplab.config.schema import Config


def check(cfg: DictConfig) -> DictConfig:
    return typed(cfg, Config)  # the report only describes the run; train validated it


@hydra_app("train", check=check)
def main(cfg: DictConfig) -> None:
    cfg = check(cfg)
    from mlplab.reporting.report import build_report, run_summary

    out = run_dir()
    print(f"wrote {build_report(out, out / 'reports', run_summary(cfg))}")


if __name__ == "__main__":
    main()
