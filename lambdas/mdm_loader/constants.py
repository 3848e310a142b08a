"""Names of the MDM loader shared by its stack and its runtime, defined once.

Plain strings only, so the CDK app can import this module without boto3 or
Powertools. The table names come from `omni_domain.constants` (ENV_CUSTOMER_TABLE,
ENV_IDENTITY_TABLE): the loader writes the same tables as the profile service.
"""

from __future__ import annotations

MDM_LOADER_SERVICE = "mdm-loader"
MDM_LOADER_HANDLER = "mdm_loader.handler.lambda_handler"
# The bucket a matching run publishes to; events from any other bucket are refused.
ENV_CURATED_BUCKET = "CURATED_BUCKET_NAME"

# Customer table record (sort key) left under a golden id that a later run merged away.
MERGED_RECORD = "MERGED"

# The loader's EventBridge filter: object key suffix of a run manifest (`<mdm prefix>runs/run_id=<run>/manifest.json`).
MANIFEST_SUFFIX = "/manifest.json"
