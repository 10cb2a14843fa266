"""mlplab: a reproducible PyTorch Lightning + Hydra + DVC template for MLP research.

Importing the package is cheap on purpose: torch and Lightning are imported by the
modules that need them, so entry scripts can validate a config in well under a second.
"""

__version__ = "0.1.0"
