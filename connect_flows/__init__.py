"""Contact flows as code and the admins' flow tooling."""
