"""The config layer: the schema's types, the shared rule helpers and the params.yaml generator.

It is the bottom layer and imports nothing of mlplab but errors: each layer above checks its
own keys (data/checks.py, models/checks.py, training/checks.py).
"""
