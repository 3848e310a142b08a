"""What the platform's REST APIs share: problem+json answers mapped from domain errors in one place."""
