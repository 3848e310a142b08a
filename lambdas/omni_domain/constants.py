"""Names shared by the infrastructure (CDK) and the Lambda runtime, defined once.

The stacks import this module to name environment variables, key attributes and
indexes; the functions import it to read them. It must stay importable without
boto3 or Powertools, so it holds plain strings only.
"""

from __future__ import annotations

# Environment variables of the customer-profile function (set by its stack).
ENV_CUSTOMER_TABLE = "CUSTOMER_TABLE_NAME"
ENV_IDENTITY_TABLE = "IDENTITY_TABLE_NAME"
ENV_IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE_NAME"
ENV_DEFAULT_PHONE_REGION = "DEFAULT_PHONE_REGION"
ENV_IDEMPOTENCY_EXPIRY_SECONDS = "IDEMPOTENCY_EXPIRY_SECONDS"
# Powertools' own variables, named here so infra and runtime agree on them.
ENV_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
ENV_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
ENV_TRACE_DISABLED = "POWERTOOLS_TRACE_DISABLED"

PROFILES_SERVICE = "profiles"
PROFILES_HANDLER = "profiles.handler.lambda_handler"

# Customer table: one partition per customer, one item per record kind.
CUSTOMER_TABLE_SUFFIX = "customers"
CUSTOMER_PARTITION_KEY = "customer_id"
CUSTOMER_SORT_KEY = "record"
PROFILE_RECORD = "PROFILE"
LIVE_STATE_RECORD = "STATE"
ERASURE_RECORD = "ERASURE"

# Identity map (written by the MDM loader and by the profile service).
IDENTITY_TABLE_SUFFIX = "identity-map"
IDENTITY_PARTITION_KEY = "identifier"
IDENTITY_CUSTOMER_ATTRIBUTE = "customer_id"
# GSI: partition key `customer_id`, projection KEYS_ONLY; erasure finds every link of a customer through it.
IDENTITY_BY_CUSTOMER_INDEX = "by-customer"

# Idempotency table: the Powertools DynamoDB persistence layer's default attribute names.
IDEMPOTENCY_TABLE_SUFFIX = "idempotency"
IDEMPOTENCY_PARTITION_KEY = "id"
IDEMPOTENCY_EXPIRY_ATTRIBUTE = "expiration"

# Experience pathway: the customer event stream, its processor and the triggers it raises.
ENV_EVENT_STREAM = "EVENT_STREAM_NAME"
ENV_DEAD_LETTER_QUEUE_URL = "EVENT_DEAD_LETTER_QUEUE_URL"
ENV_EVENT_BUS = "EVENT_BUS_NAME"
# Rolling 30-day spend (in ENV_SPEND_CURRENCY) at which SpendingThresholdCrossed fires.
ENV_SPEND_THRESHOLD = "SPEND_THRESHOLD"
ENV_SPEND_CURRENCY = "SPEND_CURRENCY"
# How long an applied event id is remembered for de-duplication (covers stream retention and retries).
ENV_DEDUP_HOURS = "EVENT_DEDUP_HOURS"
# Two interactions on different channels this close together are one journey switching channel.
ENV_CHANNEL_SWITCH_MINUTES = "CHANNEL_SWITCH_WINDOW_MINUTES"
# How far after its arrival on the stream an event's occurred_at may be; beyond it the event is dead-lettered.
ENV_FUTURE_TOLERANCE_MINUTES = "EVENT_FUTURE_TOLERANCE_MINUTES"

EVENT_STREAM_SUFFIX = "customer-events"
# The platform's event bus (foundation stack): triggers, CustomerStateChanged, channel rules.
EVENT_BUS_SUFFIX = "customer-events"
EVENT_PROCESSOR_SERVICE = "event-processor"
EVENT_PROCESSOR_HANDLER = "event_processor.handler.lambda_handler"
# EventBridge `source` of every trigger the event processor puts on the bus (detail types: omni_domain.event_triggers).
TRIGGER_SOURCE = "omni.experience"

# Seamless stage (5): every change to the customer table fans out as CustomerStateChanged on the bus.
STATE_CHANGE_SOURCE = "omni.customer-state"
STATE_CHANGED_DETAIL_TYPE = "CustomerStateChanged"
STATE_PUBLISHER_SERVICE = "state-publisher"
STATE_PUBLISHER_HANDLER = "state_publisher.handler.lambda_handler"
# The publisher's function timeout: its AWS clients' timeouts are sized to fit a record's calls inside it.
STATE_PUBLISHER_TIMEOUT_SECONDS = 30
# The publisher's idempotency table (one item per published stream record, expiring after the stream's 24 h).
STATE_CHANGES_IDEMPOTENCY_SUFFIX = "state-changes-idempotency"
# Real-time rescoring: a CustomerStateChanged naming a model-relevant attribute rescores the customer.
RESCORER_SERVICE = "rescorer"
RESCORER_HANDLER = "rescorer.handler.lambda_handler"
ENV_RESCORE_TABLE = "RESCORE_TABLE_NAME"
ENV_RESCORE_DEBOUNCE_SECONDS = "RESCORE_DEBOUNCE_SECONDS"
RESCORE_TABLE_SUFFIX = "rescore-debounce"
RESCORE_PARTITION_KEY = "customer_id"  # S
RESCORE_EXPIRY_ATTRIBUTE = "expires_at"  # N: epoch seconds (DynamoDB TTL)
# The contact centre's next-best-action lookup (stage 5), called by the whisper flow.
NEXT_ACTION_SERVICE = "connect-next-action"
NEXT_ACTION_HANDLER = "connect_next_action.handler.lambda_handler"
