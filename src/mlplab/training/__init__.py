"""Assembling a run: callbacks, loggers, the Trainer, and the train recipe itself."""
