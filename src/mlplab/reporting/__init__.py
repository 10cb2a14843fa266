"""A run's report (report.md and a self-contained report.html) and its figures, built from the
run directory's files, never live objects."""
