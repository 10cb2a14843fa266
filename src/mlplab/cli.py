"""What every entry script shares: its Hydra app, the run directory and one-line errors.

`hydra_app` replaces `@hydra.main`. Before Hydra creates anything, it parses the command line
exactly as Hydra does, composes every job's config with Hydra's own loader (each job of a
`-m` sweep) and runs the script's checks on it: a bad input stops with one `error:` line,
exit code 2 and nothing written. Only then does Hydra's normal run take over, in a run
directory that is unique by construction: created with an exclusive `mkdir`, named by the
time to the millisecond and the overrides (`logs/runs/2026-11-25_19-40-12.345_model.dropout-0.3`).
"""

from __future__ import annotations

import ast
import difflib
import functools
import importlib.util
import inspect
import os
import re
import shlex
import shutil
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from mlplab.errors import EXIT_DIVERGED, EXIT_USER_ERROR, ConfigError, MlplabError, RunDiverged

# configs/hydra/default.yaml's run and sweep dirs: replaced by a unique directory per run.
CLOCK_DIRS = {"run": "logs/runs", "sweep": "logs/multiruns"}
CONFIG_PATH = "../configs"  # relative to the entry scripts in src/
NAME_LIMIT = 80  # characters of the override part of a run directory's name

_created: Path | None = None  # the run directory this process made, removed on a user error
_typed: list[str] = []  # the command line as typed, before hydra_app adds to it
_failed: list[int] = []  # exit codes of the multirun jobs that failed; the sweep went on
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what a shell reports for a command stopped by Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM
JOB_ERROR = "error.txt"  # in a failed multirun job's directory: its error, for the summary


def safe_name(text: str, limit: int = NAME_LIMIT) -> str:
    """Overrides as one path component that is also a plain Hydra override value (no `=`,
    `,`, brackets or quotes), so `evaluate.checkpoint=logs/runs/<name>/models/best.ckpt`
    needs no quoting: `model.dropout=0.3,optimizer=sgd` -> `model.dropout-0.3+optimizer-sgd`,
    `model.hidden_sizes=[8,8]` -> `model.hidden_sizes-8_8`."""
    cleaned = text.translate(str.maketrans("/=,", "--_"))
    cleaned = re.sub(r"[\[\](){}'\"]", "", cleaned)
    cleaned = re.sub(r"[^A-Za-z0-9_.+@%\-]+", "_", cleaned)
    return cleaned[:limit].strip("._-+")


if not OmegaConf.has_resolver("safe_name"):
    OmegaConf.register_new_resolver("safe_name", safe_name)


def command_line() -> list[str]:
    """The entry script's command line as the user typed it."""
    return [sys.executable, *(_typed or sys.argv)]


def run_dir() -> Path:
    """Hydra's output directory: `.` for DVC stages, logs/runs/<unique name> for ad-hoc runs."""
    from hydra.core.hydra_config import HydraConfig

    return Path(HydraConfig.get().runtime.output_dir)


def fail(err: BaseException) -> None:
    """One `error:` line on stderr, then exit 2 (3 for a diverged run)."""
    print(f"error: {err}", file=sys.stderr)
    sys.exit(EXIT_DIVERGED if isinstance(err, RunDiverged) else EXIT_USER_ERROR)


def user_errors_exit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Report an MlplabError as one line on stderr and exit 2, a diverged run likewise with
    exit 3, removing the run directory this process created for it; MLPLAB_DEBUG=1 re-raises.
    A multirun job's error (any error) is written to its directory's error.txt and the sweep
    goes on to the next job; the process exits with the error's code at the end. Ctrl-C that
    reaches here (outside training, which stops by itself) is one line and exit code 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = os.environ.get("MLPLAB_DEBUG") == "1"
        try:
            return fn(*args, **kwargs)
        except (MlplabError, RunDiverged) as err:
            if debug:
                raise
            if _in_multirun():
                return _job_failed(f"error: {err}", _exit_code(err))
            if isinstance(err, MlplabError) and _created is not None:
                _remove_own_output(_created)
            fail(err)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            sys.exit(EXIT_INTERRUPTED)
        except Exception as err:
            if debug or not _in_multirun():
                raise
            traceback.print_exc()
            return _job_failed(f"{type(err).__name__}: {err}", 1)

    return wrapper


def _exit_code(err: BaseException) -> int:
    return EXIT_DIVERGED if isinstance(err, RunDiverged) else EXIT_USER_ERROR


def _in_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def _job_failed(message: str, code: int) -> None:
    """A multirun job's error: one line on stderr and in the job's error.txt."""
    print(message.splitlines()[0] if message else message, file=sys.stderr)
    directory = run_dir()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / JOB_ERROR).write_text(message + "\n")
    _failed.append(code)


def resume_command(directory: Path) -> str:
    """The command that continues this run (its job's overrides, `resume=true` in its own
    directory): `python src/train.py model.dropout=0.3 hydra.run.dir=<dir> resume=true`."""
    from hydra.core.hydra_config import HydraConfig

    task = [o for o in HydraConfig.get().overrides.task if _key_of(o) != "resume"]
    script = os.path.relpath(_typed[0] if _typed else sys.argv[0])
    words = ["python", script, *task, f"hydra.run.dir={shown(directory)}", "resume=true"]
    return " ".join(shlex.quote(w) for w in words)


def hydra_app(
    config_name: str,
    check: Callable[[DictConfig], Any],
    announce: bool = True,
    multirun_end: str | None = None,
) -> Callable[[Callable[[DictConfig], Any]], Callable[[], None]]:
    """`@hydra.main(config_path="../configs", config_name=...)`, with `check` run on every
    job's composed config before Hydra starts; `announce` prints the run directory first.
    `multirun_end` names a Hydra Callback class that a `-m` sweep of this script gets (e.g.
    its summary table); given only to sweeps, so a single run never imports it."""

    def decorate(fn: Callable[[DictConfig], Any]) -> Callable[[], None]:
        import hydra

        @functools.wraps(fn)
        def task(cfg: DictConfig) -> Any:
            if announce:
                print(f"run directory: {shown(run_dir())}", flush=True)
            return fn(cfg)

        hydra_main = hydra.main(
            version_base="1.3", config_path="../configs", config_name=config_name
        )
        app = hydra_main(user_errors_exit(task))
        script = inspect.getfile(fn)

        @functools.wraps(fn)
        def main() -> None:
            try:
                argv = checked_argv(
                    sys.argv[1:], script, CONFIG_PATH, config_name, check, multirun_end
                )
            except MlplabError as err:
                if os.environ.get("MLPLAB_DEBUG") == "1":
                    raise
                fail(err)
            _typed[:] = sys.argv
            sys.argv[1:] = argv
            app()
            if _failed:  # multirun jobs that failed: the sweep ran on, its exit code says so
                sys.exit(max(_failed))

        return main

    return decorate


def checked_argv(
    argv: list[str],
    script: str,
    config_path: str,
    config_name: str,
    check: Callable[[DictConfig], Any],
    multirun_end: str | None = None,
) -> list[str]:
    """`argv` as Hydra will run it: checked, trainer arguments given their `+`, the run
    directory made and, for a sweep, the `multirun_end` callback added; ConfigError naming the
    key for anything Hydra or `check` would refuse."""
    from hydra._internal.utils import get_args_parser
    from hydra.core.global_hydra import GlobalHydra

    args = get_args_parser().parse_args(argv)
    if args.help or args.hydra_help or args.cfg or args.info or args.shell_completion:
        return argv  # Hydra shows what was asked for; nothing runs, nothing is written
    overrides = list(args.overrides)
    prefix = argv[: len(argv) - len(overrides)] if overrides else list(argv)
    hydra = _hydra(script, args.config_path or config_path, args.config_dir)
    try:
        name = args.config_name or config_name
        overrides = _with_trainer_plus(hydra, name, overrides)
        from hydra.types import RunMode

        multirun = args.multirun or hydra.get_mode(name, overrides) == RunMode.MULTIRUN
        mode = RunMode.MULTIRUN if multirun else RunMode.RUN
        jobs = _sweep_jobs(overrides) if multirun else [overrides]
        for job in jobs:
            cfg = _compose(hydra, name, job, mode)
            check(cfg)
        first = _compose(hydra, name, jobs[0], mode)
    finally:
        GlobalHydra.instance().clear()
    callback = [f"+hydra.callbacks.multirun_end._target_={multirun_end}"]
    return (
        prefix
        + overrides
        + _unique_dir(first, overrides, multirun)
        + (callback if multirun and multirun_end else [])
    )


def _hydra(script: str, config_path: str, config_dir: str | None) -> Any:
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_automatic_config_search_path
    from hydra.core.config_search_path import SearchPathQuery

    search_path = create_automatic_config_search_path(script, None, config_path)
    if config_dir is not None:
        if not os.path.isdir(config_dir):
            raise ConfigError(f"config directory {config_dir} (--config-dir) does not exist")
        search_path.prepend(
            "command-line", f"file://{os.path.abspath(config_dir)}", SearchPathQuery("schema")
        )
    return Hydra.create_main_hydra2(task_name=Path(script).stem, config_search_path=search_path)


def _compose(hydra: Any, name: str, overrides: list[str], mode: Any) -> DictConfig:
    """Hydra's composition of one job; its errors as one ConfigError line."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        return hydra.compose_config(name, overrides, run_mode=mode, with_log_configuration=False)
    except (HydraException, OmegaConfBaseException, ValueError) as err:
        raise ConfigError(_explain(hydra, name, overrides, err)) from None


def _explain(hydra: Any, name: str, overrides: list[str], err: Exception) -> str:
    from hydra.errors import MissingConfigException, OverrideParseException

    text = str(err)
    if isinstance(err, OverrideParseException):
        return (
            f"override {err.override!r} is not valid override syntax: {err.message.splitlines()[0]}"
        )
    if isinstance(err, MissingConfigException) and err.missing_cfg_file:
        group, _, option = err.missing_cfg_file.rpartition("/")
        if group:
            options = _options(hydra, group)
            return f"config group '{group}' has no option {option!r}; options: {', '.join(options)}"
        return f"config {err.missing_cfg_file!r} not found"
    bad = re.search(r"Could not override '([^']+)'", text)
    if bad:
        key = bad.group(1)
        rest = [o for o in overrides if not _key_of(o).endswith(key)]
        return _unknown_key(key, _keys(hydra, name, rest))
    return " ".join(text.split())


def _unknown_key(key: str, keys: list[str]) -> str:
    """The message for a key that is in no config, with the nearest real key."""
    leaf = key.rsplit(".", 1)[-1]
    same_leaf = [k for k in keys if k.rsplit(".", 1)[-1] == leaf and k != key]
    parent = key.rpartition(".")[0]
    siblings = [k for k in keys if k.rpartition(".")[0] == parent]
    near = same_leaf or difflib.get_close_matches(key, siblings or keys, n=1, cutoff=0.6)
    hint = f"did you mean '{near[0]}'?" if near else "add it with '+' only if it is a new key"
    return f"config key '{key}' does not exist; {hint}"


def _keys(hydra: Any, name: str, overrides: list[str]) -> list[str]:
    """Every dotted key of the composed config (no hydra node)."""
    from hydra.types import RunMode

    try:
        cfg = hydra.compose_config(name, overrides, run_mode=RunMode.RUN)
    except Exception:  # the other overrides fail too: suggest from the defaults
        cfg = hydra.compose_config(name, [], run_mode=RunMode.RUN)
    tree = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(tree, dict)
    tree.pop("hydra", None)
    return list(_flatten(tree))


def _flatten(tree: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _flatten(v, f"{prefix}{k}.")
    if prefix:
        yield prefix[:-1]


def _options(hydra: Any, group: str) -> list[str]:
    from hydra.core.object_type import ObjectType

    found = hydra.config_loader.get_group_options(group, results_filter=ObjectType.CONFIG)
    return sorted(o for o in found if not o.startswith("_"))


def _key_of(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _with_trainer_plus(hydra: Any, name: str, overrides: list[str]) -> list[str]:
    """`trainer.X=v` becomes `+trainer.X=v` when X is a Trainer argument the trainer config
    leaves out (the node is free-form); a non-argument is refused with the nearest one."""
    from hydra.types import RunMode

    present = [o for o in overrides if not o.startswith("trainer.")]
    try:
        cfg = hydra.compose_config(name, present, run_mode=RunMode.MULTIRUN)
    except Exception:
        return overrides  # composition fails anyway; _compose names the reason
    trainer = cfg.get("trainer")
    if not isinstance(trainer, DictConfig):
        return overrides
    out = []
    for override in overrides:
        key = _key_of(override)
        parts = key.split(".")
        free = override[0] not in "+~" and parts[0] == "trainer" and len(parts) == 2
        if free and parts[1] not in trainer:
            known = trainer_arguments()
            if parts[1] not in known:
                near = difflib.get_close_matches(parts[1], known, n=1, cutoff=0.6)
                hint = f"did you mean 'trainer.{near[0]}'?" if near else "see its documentation"
                raise ConfigError(
                    f"config key '{key}' is not an argument of lightning.pytorch.Trainer; {hint}"
                )
            override = "+" + override
        out.append(override)
    return out


@functools.cache
def trainer_arguments() -> list[str]:
    """The parameters of lightning.pytorch.Trainer, read from its source (importing Lightning
    would cost seconds)."""
    spec = importlib.util.find_spec("lightning")
    assert spec is not None and spec.origin is not None
    source = Path(spec.origin).parent / "pytorch" / "trainer" / "trainer.py"
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ClassDef) and node.name == "Trainer":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    args = item.args
                    return [a.arg for a in [*args.args, *args.kwonlyargs] if a.arg != "self"]
    return []


def _sweep_jobs(overrides: list[str]) -> list[list[str]]:
    """The jobs of a `-m` sweep, expanded by Hydra's own parser and basic sweeper."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        batches = BasicSweeper.split_arguments(parsed, None)
    except HydraException as err:
        raise ConfigError(_explain(None, "", overrides, err)) from None
    return [job for batch in batches for job in batch] or [[]]


def _unique_dir(cfg: DictConfig, overrides: Sequence[str], multirun: bool) -> list[str]:
    """Make the run (or sweep) directory with an exclusive mkdir when the config keeps the
    clock-named default; return the override that hands it to Hydra."""
    global _created
    kind = "sweep" if multirun else "run"
    node = cfg.hydra[kind]
    raw = node._get_node("dir")._value()
    root = CLOCK_DIRS[kind]
    if not (isinstance(raw, str) and raw.startswith(f"{root}/${{now:")):
        return []  # the user's or the stage's own directory (DVC: hydra.run.dir=.)
    stamp = clock_stamp()
    task = [o for o in overrides if not _key_of(o).startswith("hydra.")]
    items = sorted(o.lstrip("+~").replace("=", "-", 1) for o in task)
    label = "" if multirun else safe_name("+".join(items))
    _created = new_dir(Path(root) / (f"{stamp}_{label}" if label else stamp))
    return [f"hydra.{kind}.dir={_quoted(str(_created))}"]


def clock_stamp() -> str:
    """The time to the millisecond, as run and study directories are named."""
    return datetime.now().strftime("%Y-%m-%d_%H-%M-%S.%f")[:-3]


def new_dir(base: Path) -> Path:
    """`base`, or `base-2`, `base-3`, ...: the first that an exclusive mkdir creates, so two
    processes started in the same millisecond never share one."""
    base.parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        path = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise ConfigError(f"could not create a new directory next to {base}")


def shown(path: Path) -> str:
    """`path` relative to the current directory when it lies inside it."""
    here, there = Path.cwd().resolve(), path.resolve()
    return str(there.relative_to(here)) if there.is_relative_to(here) else str(there)


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _remove_own_output(created: Path) -> None:
    """After a user error: the run directory this process made goes (for a sweep, the job's)."""
    out = run_dir().resolve()
    mine = created.resolve()
    if out == mine or mine in out.parents:
        shutil.rmtree(out, ignore_errors=True)
