"""Score a checkpoint on the test split (evaluate.py) or on a new file (predict.py)."""
