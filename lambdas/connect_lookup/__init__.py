"""Caller lookup for Amazon Connect flows: phone number -> a flat string map of who is calling."""
