"""Event processor (experience pathway): Kinesis customer events -> live customer state and triggers."""
