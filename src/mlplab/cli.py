"""What every entry script shares: the run directory and one-line errors with exit code 2."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlplab.errors import EXIT_DIVERGED, EXIT_USER_ERROR, MlplabError, RunDiverged


def run_dir() -> Path:
    """Hydra's output directory: `.` for DVC stages, logs/runs/<timestamp> for ad-hoc runs."""
    from hydra.core.hydra_config import HydraConfig

    return Path(HydraConfig.get().runtime.output_dir)


def user_errors_exit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Report an MlplabError as one line on stderr and exit 2, a diverged run likewise with
    exit 3; MLPLAB_DEBUG=1 re-raises."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (MlplabError, RunDiverged) as err:
            if os.environ.get("MLPLAB_DEBUG") == "1":
                raise
            print(f"error: {err}", file=sys.stderr)
            sys.exit(EXIT_DIVERGED if isinstance(err, RunDiverged) else EXIT_USER_ERROR)

    return wrapper
