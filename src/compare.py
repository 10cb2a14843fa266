"""Compare runs: python src/compare.py RUN_DIR... | MULTIRUN_DIR | --dvc-exps [--out DIR].

Prints one table of the config keys that differ and the metrics (mean ± std over seeds for runs
that differ only in `seed`) and writes compare.md, compare.html and figures/curves.png to
`--out`: by default `<multirun>/compare/` for one multirun folder, else logs/compare/<time>/.
Reads run directories (or `dvc exp show --json`), never live objects; bad input is one
`error:` line, exit code 2, nothing written.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from mlplab.cli import CLOCK_DIRS, user_errors_exit
from mlplab.errors import EXIT_USER_ERROR

COMPARE_DIR = Path(CLOCK_DIRS["run"]).parent / "compare"  # logs/compare/<time>/


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, as every entry script's errors
        print(f"error: compare.py: {message}; see python src/compare.py --help", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = Parser(prog="python src/compare.py", description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", type=Path, help="run directories or multirun folders")
    parser.add_argument("--dvc-exps", action="store_true", help="the DVC experiments of the repo")
    parser.add_argument("--out", type=Path, help="report folder (default: see above)")
    args = parser.parse_args(argv)
    if bool(args.runs) == args.dvc_exps:
        parser.error("give run directories / a multirun folder, or --dvc-exps (one of them)")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file, not a folder")
    return args


@user_errors_exit
def main(argv: list[str]) -> None:
    args = arguments(argv)
    from mlplab.reporting.runs import run_dirs

    found = run_dirs(args.runs)  # before matplotlib loads: a typo costs a second
    from mlplab.reporting.compare import compare, from_dvc_experiments, from_paths, write_comparison
    from mlplab.reporting.sweep import to_table

    if args.dvc_exps:
        items = from_dvc_experiments(Path.cwd())
        source = f"The DVC experiments of `{Path.cwd()}` (`dvc exp show --json`)."
    else:
        items = from_paths(found)
        source = "Run directories under " + ", ".join(f"`{p}`" for p in args.runs) + "."
    out = args.out or _default_out(args.runs)
    table = compare(items)
    print(to_table(table.header, [dict(zip(table.header, r, strict=True)) for r in table.rows]))
    for path in write_comparison(items, table, source, out):
        print(f"wrote {path}")


def _default_out(paths: list[Path]) -> Path:
    from mlplab.reporting.runs import is_run

    if len(paths) == 1 and not is_run(paths[0]):
        return paths[0] / "compare"
    return COMPARE_DIR / datetime.now().strftime("%Y-%m-%d_%H-%M-%S.%f")[:-3]


if __name__ == "__main__":
    main(sys.argv[1:])
