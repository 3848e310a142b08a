"""Why a load fails. Each one fails the invocation, so EventBridge retries it and then the DLQ keeps the event.

Messages name keys, data sets and counts, never customer data (they reach the logs).
"""

from __future__ import annotations


class LoadError(Exception):
    """Base of every failure of a load."""


class NotAManifestError(LoadError):
    """The event names an object that is not a run manifest (`.../runs/run_id=<run>/manifest.json`)."""


class WrongBucketError(LoadError):
    """The event comes from a bucket other than the curated bucket the function is configured for."""


class IncompleteRunError(LoadError):
    """The manifest is unreadable, or a data set it promises is missing or shorter than announced."""


class MalformedLineError(LoadError):
    """A line of a part file does not have the published shape: the run itself is broken."""


class UnwrittenItemsError(LoadError):
    """DynamoDB still refused some items after every retry; they are counted, not lost silently."""


class ProfileContentionError(LoadError):
    """A profile kept changing under the loader (optimistic concurrency) after every retry."""
