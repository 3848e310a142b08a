"""The `omni` command line: every subcommand's argument parsing and wiring.

Each module here parses one subcommand's arguments, builds what it needs and
calls library code in the package it operates on (`infra`, `connect_flows`,
`glue_jobs`, the Lambda and SageMaker packages, `sandbox`), printing the result.
The dependency runs one way: runtime packages never import `omni_cli` (nor
`infra`), so nothing here can end up in a Lambda, Glue or SageMaker asset;
`tests/test_runtime_imports.py` enforces it.
"""
