"""Config schema, validation and the params.yaml generator. Imports nothing heavy."""

from mlplab.config.validate import validate

__all__ = ["validate"]
