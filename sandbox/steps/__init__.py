"""The sandbox's steps, in run order; each takes the run context and returns a typed result the report renders."""
