"""Figures and the markdown report, built from the pipeline's files, never live objects."""
