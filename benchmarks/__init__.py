"""Benchmarks run by `make bench`: memory of a chunked prepare and training throughput of
`train()` against a hand-written PyTorch loop. They report numbers; no test asserts them."""
