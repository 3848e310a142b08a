"""Next-best-action lookup for Amazon Connect flows: customer id -> a flat string map the agent whisper reads out."""
