"""The Entity Resolution matching pipeline's steps: claim the night, start the job, follow it, publish or alert."""
