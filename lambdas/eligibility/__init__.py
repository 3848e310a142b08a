"""Eligibility microservice: rules as data plus a propensity score, with a rules-only fallback."""
