"""Hyper-parameter search: python src/search.py [search=<preset>] [n_trials=N] [train
overrides ...]. Every trial is a training run in logs/search/<study>/trial_<number>/; the
study lives in search.storage, so more processes with the same command join it."""

from omegaconf import DictConfig

from mlplab.cli import hydra_app, run_dir, shown
from mlplab.training.search import check_search


@hydra_app("search", check=check_search)
def main(cfg: DictConfig) -> None:
    check_search(cfg)  # before importing torch: a bad space costs a second, not a trial
    from mlplab.evaluation.evaluate import report_test_metrics  # scored as train.py scores
    from mlplab.reporting.search import read_study, write_search_report
    from mlplab.training.search import run_study

    out = run_dir()
    run_study(cfg, out, report_test_metrics)
    study = read_study(cfg.search.storage, cfg.search.study_name)
    print(write_search_report(study, out))
    print(f"report: {shown(out / 'report.md')}")


if __name__ == "__main__":
    main()
