"""Offer check for Amazon Connect flows: customer id -> a flat string map saying whether an offer applies."""
