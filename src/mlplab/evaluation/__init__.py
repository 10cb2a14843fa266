"""Score a checkpoint on the test split: metrics, confusion pairs and per-row predictions."""
