"""Project exceptions: expected failures that entry scripts report as one line, exit code 2."""


class MlplabError(Exception):
    """An error the user can fix (bad config, bad data, missing file); never a bug."""


class ConfigError(MlplabError):
    """A config value is missing, of the wrong type, out of range or not an allowed name."""


class DataError(MlplabError):
    """A data file is missing or malformed, or a split is impossible."""
