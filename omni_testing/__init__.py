"""In-memory fakes of the functions' ports, for tests, benchmarks and the sandbox; never shipped in an asset.

Each module holds the fakes of one function's ports (`customers` those of the
shared customer domain), with the guarantees of the AWS adapters they stand in
for (conditional writes, atomic claims). Runtime code under `lambdas/` never
imports this package: a function's asset holds only what its handler reaches.
"""
