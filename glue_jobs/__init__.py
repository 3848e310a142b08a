"""Customer de-duplication (MDM): matching engines, survivorship and the Glue job scripts."""
