"""What the loader accepts from EventBridge: an S3 "Object Created" event for a run manifest in the curated bucket."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

from mdm_loader.errors import NotAManifestError, WrongBucketError
from mdm_loader.run_format import run_location

OBJECT_CREATED = "Object Created"
S3_SOURCE = "aws.s3"


def manifest_key(event: S3EventBridgeNotificationEvent, curated_bucket: str) -> str:
    """The manifest key the event announces (URL-decoded); refuses other events and other buckets."""
    if event.source != S3_SOURCE or event.detail_type != OBJECT_CREATED:
        raise NotAManifestError(
            f"expected an S3 {OBJECT_CREATED!r} event, got {event.detail_type!r} from {event.source!r}"
        )
    bucket = event.detail.bucket.name
    if bucket != curated_bucket:
        raise WrongBucketError(f"event from bucket {bucket!r}; this loader reads {curated_bucket!r}")
    key = event.detail.object.key
    run_location(key)  # refuses a key that is not a manifest before anything is read
    return key
