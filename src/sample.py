"""Sample names from a character-level checkpoint (Karpathy's makemore):
python src/sample.py ckpt_path=models/best.ckpt num_samples=20 seed=0 [output=names.txt].

Prints the names, one a line, or writes them to `output`.
"""

from omegaconf import DictConfig

from mlplab.cli import hydra_app
from mlplab.config.sample import validate_sample


@hydra_app("sample", check=validate_sample, announce=False)  # not a run: no run directory
def main(cfg: DictConfig) -> None:
    cfg = validate_sample(cfg)  # before importing torch: a typo costs a second
    from mlplab.evaluation.sample import sample_names, write_names

    names = sample_names(cfg.ckpt_path, cfg.num_samples, cfg.seed, cfg.max_length)
    if cfg.output is None:
        print("\n".join(names))
    else:
        write_names(names, cfg.output)
        print(f"wrote {len(names)} names to {cfg.output}")


if __name__ == "__main__":
    main()
