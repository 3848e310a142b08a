"""Shared customer domain: contracts, pure rules and storage ports used by every Lambda."""
