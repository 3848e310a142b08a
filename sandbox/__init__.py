"""The offline sandbox: the whole platform on this machine, in moto, driven through the real handlers.

`sandbox.platform.local_platform` stands the platform up from the synthesized
templates (so it cannot drift from the infrastructure); `omni sandbox run`
(`sandbox.run`, wired by `omni_cli.sandbox`) drives synthetic customers and journeys through it
and writes a report.
"""
