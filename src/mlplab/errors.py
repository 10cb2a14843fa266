"""Project exceptions and the exit codes the entry scripts turn them into.

0: the run finished. 2: bad input (config, data, file) the user can fix, reported as one line
before anything is written. 3: the run diverged (a non-finite loss, gradient or weight).
"""

EXIT_USER_ERROR = 2
EXIT_DIVERGED = 3


class MlplabError(Exception):
    """An error the user can fix (bad config, bad data, missing file); never a bug."""


class ConfigError(MlplabError):
    """A config value is missing, of the wrong type, out of range or not an allowed name."""


class DataError(MlplabError):
    """A data file is missing or malformed, or a split is impossible."""


class RunDiverged(Exception):
    """Training met a non-finite loss, gradient or weight and stopped (exit code 3)."""
