"""Faults on purpose: the spec of `omni sandbox run --faults`, its seeded schedule, and where each fault is injected.

A spec names fault kinds with a rate (the chance per opportunity, 0 to 1) and a
seed: `dynamodb-throttle=0.03,handler-crash=0.03,seed=7`. Faults are injected
only while a handler runs (the platform's invocation seam), so the sandbox's
own reads of moto never see one; each is drawn from one seeded generator and
kept in the schedule (`FaultInjector.faults`) with the function, the operation
and the invocation it hit.

Where each kind is injected:
- dynamodb-throttle: botocore `before-send` (every HTTP attempt) answers DynamoDB's
  own 400 with `ProvisionedThroughputExceededException` (reads and writes) or
  `ThrottlingException` (TransactWriteItems/TransactGetItems), so the SDK's retry
  policy sees exactly what DynamoDB sends;
- s3-read-error: `before-send` answers S3 `GetObject` with `InternalError` (500)
  or `SlowDown` (503), in the MDM loader;
- eventbridge-partial: `before-call` takes entries out of a `PutEvents` request
  and `after-call` puts them back into the answer as failed entries
  (`FailedEntryCount`, per-entry `ErrorCode`): the others reach the bus;
- sagemaker-error / sagemaker-timeout: `before-call` answers `InvokeEndpoint`
  with `ModelError` (424), or raises botocore's `ReadTimeoutError`;
- handler-crash: the event processor stops dead after one or two state writes of
  an invocation (before its response), as a timeout would; Lambda sees a
  function error (`FunctionTimedOut`) and the event source mapping retries;
- kinesis-redelivery: an already processed batch is delivered again
  (`redeliver`, drawn by the journeys step's poller).

The SDK's backoff between retries is counted, not waited (`backoff_seconds`): a
sandbox run has no traffic to wait for, and at a few percent of throttles the
standard retry mode's sleeps (up to 2^attempt s each) would be most of the run.

What absorbed each fault is counted from what was observed afterwards
(`absorbed`): the call succeeded on the SDK's retry, the publisher put the
entries again, a later invocation settled the records, the decision fell back to
the rules, the redelivered records came back duplicates, or the work was given
up to an on-failure queue or dead-letter queue.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.endpoint
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

KINDS: dict[str, str] = {
    "dynamodb-throttle": "DynamoDB throttles a read, write or transaction (the SDK's retries see it)",
    "eventbridge-partial": "EventBridge PutEvents fails some entries of a request",
    "sagemaker-error": "the SageMaker endpoint answers ModelError",
    "sagemaker-timeout": "the SageMaker endpoint does not answer in time (read timeout)",
    "s3-read-error": "S3 GetObject fails (InternalError, SlowDown) in the MDM loader",
    "handler-crash": "the event processor dies mid-batch, after some writes and before its response",
    "kinesis-redelivery": "the stream delivers an already processed batch again",
}
# A few percent of each kind's chances, but for the three with few chances per run: the MDM loader reads a
# handful of objects, and the event processor is invoked (and a batch may be redelivered) once per batch of
# up to 500 records, so at a few percent they would meet no fault at all.
DEFAULT_SPEC = (
    "dynamodb-throttle=0.03,eventbridge-partial=0.03,sagemaker-error=0.05,sagemaker-timeout=0.02,"
    "s3-read-error=0.25,handler-crash=0.15,kinesis-redelivery=0.25,seed=7"
)
PROCESSOR = "event_processor.handler.lambda_handler"
NOWHERE = "https://fault-injected.invalid/"  # where a refused request goes instead: no moto backend answers it
LOADER = "mdm_loader.handler.lambda_handler"
DYNAMODB_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})
DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
DYNAMODB_TRANSACTIONS = frozenset({"TransactWriteItems", "TransactGetItems"})
STATE_WRITES = frozenset({"PutItem", "TransactWriteItems"})  # how the processor writes a customer's state
S3_ERRORS = (
    ("InternalError", 500, "We encountered an internal error. Please try again."),
    ("SlowDown", 503, "Please reduce your request rate."),
)


class FaultSpecError(ValueError):
    """A --faults spec that cannot be used; the message names the field."""


@dataclass(frozen=True)
class FaultSpec:
    rates: dict[str, float]  # kind -> chance per opportunity; kinds not named are off
    seed: int

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        rates: dict[str, float] = {}
        seed = 0
        for part in (piece.strip() for piece in text.split(",")):
            if not part:
                continue
            name, sep, value = (piece.strip() for piece in part.partition("="))
            if not sep or not value:
                raise FaultSpecError(f"{part!r}: expected KIND=RATE or seed=N")
            if name == "seed":
                try:
                    seed = int(value)
                except ValueError:
                    raise FaultSpecError(f"seed: {value!r} is not a whole number") from None
                continue
            if name not in KINDS:
                raise FaultSpecError(f"{name}: unknown fault kind; known: {', '.join(KINDS)}, seed")
            try:
                rate = float(value)
            except ValueError:
                raise FaultSpecError(f"{name}: rate {value!r} is not a number") from None
            if not 0.0 <= rate <= 1.0:  # also refuses NaN
                raise FaultSpecError(f"{name}: rate {value} is outside [0, 1]")
            if name in rates:
                raise FaultSpecError(f"{name}: named twice")
            rates[name] = rate
        if not rates:
            raise FaultSpecError(f"no fault kind named; known: {', '.join(KINDS)}")
        return cls(rates, seed)

    def rate(self, kind: str) -> float:
        return self.rates.get(kind, 0.0)

    def __str__(self) -> str:
        return ",".join([*(f"{kind}={rate:g}" for kind, rate in self.rates.items()), f"seed={self.seed}"])


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault: what, where, in which invocation (the run's count), and the detail of the call."""

    number: int
    kind: str
    function: str
    operation: str
    invocation: int
    detail: str = ""

    def __str__(self) -> str:
        where = self.function.split(".", 1)[0]
        return f"#{self.number} {self.kind} in {where} (invocation {self.invocation}) {self.operation} {self.detail}".rstrip()


class FunctionTimedOut(Exception):  # noqa: N818 - named as Lambda reports it
    """The function error Lambda reports for an invocation that died before answering (a crash, a timeout)."""


class _Crash(BaseException):
    """Raised inside a handler to stop it dead: no `except Exception` of the handler can catch it."""


class _CountedBackoff:
    """The `time` botocore's endpoint sleeps with between retries: the backoff is added up instead of waited."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


class _Raw(io.BytesIO):
    """The raw body of a stood-in HTTP answer, streamed as urllib3's would be."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


@dataclass
class _Invocation:
    number: int
    function: str
    crash_after: int | None = None  # state writes before the handler dies (None: it does not)
    state_writes: int = 0
    escaped: list[Fault] = field(default_factory=list)  # faults the handler saw (the call failed)


class FaultInjector:
    """Injects the spec's faults into the handlers' AWS calls and invocations, and counts what absorbed them."""

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)  # noqa: S311 - a reproducible schedule, not cryptography
        self.faults: list[Fault] = []
        self.absorbed: dict[str, Counter[str]] = {kind: Counter() for kind in spec.rates}
        self.opportunities: Counter[str] = Counter()
        self._running: _Invocation | None = None
        self._invocations = 0
        self._pending: list[Fault] = []  # escaped into a handler that failed: settled by the caller's retries
        self._unput: dict[str, list[Fault]] = {}  # entry key -> the partial failures that refused the entry so far
        self._call: list[Fault] = []  # faults on the HTTP attempts of the call under way (one call at a time)
        self._backoff = _CountedBackoff()

    @property
    def backoff_seconds(self) -> float:
        """The SDK's backoff between retries, counted instead of waited."""
        return self._backoff.seconds

    # -- the schedule ----------------------------------------------------------------------------------
    def _draw(self, kind: str) -> bool:
        rate = self.spec.rate(kind)
        if rate <= 0.0:
            return False
        self.opportunities[kind] += 1
        return self.rng.random() < rate

    def _inject(self, kind: str, operation: str, detail: str = "") -> Fault:
        running = self._running
        fault = Fault(
            number=len(self.faults) + 1,
            kind=kind,
            function=running.function if running else "",
            operation=operation,
            invocation=running.number if running else 0,
            detail=detail,
        )
        self.faults.append(fault)
        return fault

    def absorb(self, fault: Fault, how: str) -> None:
        self.absorbed[fault.kind][how] += 1

    @property
    def injected(self) -> Counter[str]:
        return Counter(fault.kind for fault in self.faults)

    def schedule(self, *, invocations: set[int] | None = None, limit: int = 40) -> list[str]:
        """The injected faults (those of these invocations), as lines for a failure message."""
        chosen = [f for f in self.faults if invocations is None or f.invocation in invocations]
        return [str(fault) for fault in chosen[:limit]] + (
            [f"... {len(chosen) - limit} more"] if len(chosen) > limit else []
        )

    # -- wiring ----------------------------------------------------------------------------------------
    def install(self, platform: Any) -> None:
        """Hook every AWS client created from now on (handlers build theirs on first invocation) and every invocation."""
        events = boto3.DEFAULT_SESSION.events
        events.register_first("before-call", self._before_call)
        # The sandbox's endpoint stands in on this very event, and botocore asks a specific event's handlers
        # before a generic one's: the endpoint's faults must be there, first.
        events.register_first("before-call.sagemaker-runtime.InvokeEndpoint", self._before_call)
        events.register_first("before-send", self._before_send)
        events.register_first("after-call", self._after_call)
        events.register_first("after-call-error", self._after_call_error)
        platform.invocation_wrappers.append(self._invoke)
        botocore.endpoint.time = self._backoff

    def uninstall(self) -> None:
        """botocore's endpoint sleeps for real again (the hooks go with the session)."""
        botocore.endpoint.time = time

    def _invoke(self, handler_path: str, run: Callable[[], Any]) -> Any:
        self._invocations += 1
        invocation = _Invocation(self._invocations, handler_path)
        if handler_path == PROCESSOR and self._draw("handler-crash"):
            invocation.crash_after = self.rng.randint(1, 2)
        outer, self._running = self._running, invocation
        try:
            answer = run()
        except _Crash:
            self._pending.extend(invocation.escaped)
            raise FunctionTimedOut(f"invocation {invocation.number} of {handler_path} died mid-batch") from None
        except Exception:
            self._pending.extend(invocation.escaped)  # the function failed: its caller's retries decide
            raise
        finally:
            self._running = outer
        self._settle(invocation, answer)
        return answer

    def _settle(self, invocation: _Invocation, answer: Any) -> None:
        """Faults the handler saw yet answered: the answer says how it coped."""
        if not invocation.escaped:
            return
        failed_records = isinstance(answer, dict) and bool(answer.get("batchItemFailures"))
        fallback = _fell_back(answer)
        for fault in invocation.escaped:
            if failed_records:
                self._pending.append(fault)  # records reported failed: the event source mapping retries them
            elif fault.kind.startswith("sagemaker") and fallback:
                self.absorb(fault, "fallback")
            else:
                self.absorb(fault, "handled by the function")

    def settle_pending(self, how: str) -> list[Fault]:
        """The faults that failed an invocation or its records, absorbed by the caller's `how` (retry, bisect, DLQ)."""
        pending, self._pending = self._pending, []
        for fault in pending:
            self.absorb(fault, how)
        return pending

    def finish(self) -> None:
        """Entries refused and never put again (their records were given up): counted as such."""
        for faults in self._unput.values():
            for fault in faults:
                self.absorb(fault, "never put again")
        self._unput.clear()
        self.settle_pending("unsettled")

    def redeliver(self) -> bool:
        """Whether the stream delivers the batch just processed once more."""
        return self._draw("kinesis-redelivery")

    def redelivered(self, *, applied_again: int, records: int) -> None:
        fault = self._inject("kinesis-redelivery", "GetRecords", f"{records} records")
        self.absorb(fault, "idempotency" if applied_again == 0 else f"NOT absorbed: {applied_again} applied twice")

    # -- botocore hooks --------------------------------------------------------------------------------
    def _before_call(self, event_name: str, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
        if self._running is None or context.get("omni_seen"):
            return None
        context["omni_seen"] = True  # registered twice for the endpoint: one draw per call
        self._call = []
        service, operation = _service_operation(event_name)
        if service == "sagemaker-runtime" and operation == "InvokeEndpoint":
            return self._endpoint_fault(operation, context)
        if service == "eventbridge" and operation == "PutEvents":
            return self._partial_put(params, context)
        return None

    def _endpoint_fault(self, operation: str, context: dict[str, Any]) -> Any:
        if self._draw("sagemaker-timeout"):
            fault = self._inject("sagemaker-timeout", operation)
            self._escaped(fault)
            raise ReadTimeoutError(endpoint_url="https://runtime.sagemaker.amazonaws.com/endpoints/invocations")
        if self._draw("sagemaker-error"):
            fault = self._inject("sagemaker-error", operation, "ModelError 424")
            self._escaped(fault)
            parsed = {
                "Error": {"Code": "ModelError", "Message": "Received server error (500) from primary"},
                "OriginalStatusCode": 500,
                "ResponseMetadata": {"HTTPStatusCode": 424},
            }
            return AWSResponse("https://runtime.sagemaker", 424, {}, _Raw(b"")), parsed
        return None

    def _partial_put(self, params: dict[str, Any], context: dict[str, Any]) -> Any:
        body = params.get("body")
        if not body:
            return None
        request = json.loads(body)
        entries = request.get("Entries", [])
        failed = [index for index in range(len(entries)) if self._draw("eventbridge-partial")]
        if self._unput:  # entries refused earlier, put again now: accepted unless refused once more
            context["omni_put"] = [_entry_key(entry) for index, entry in enumerate(entries) if index not in failed]
        if not failed:
            return None
        faults = []
        for index in failed:
            key = _entry_key(entries[index])
            fault = self._inject("eventbridge-partial", "PutEvents", f"entry {index} {key}")
            faults.append(fault)
            self._unput.setdefault(key, []).append(fault)  # refused again: each refusal is absorbed by the put
        if len(failed) == len(entries):  # nothing left to send: EventBridge answers every entry failed
            parsed = {"FailedEntryCount": len(entries), "Entries": [], "ResponseMetadata": {"HTTPStatusCode": 200}}
            self._restore_failures(parsed, failed)
            return AWSResponse("https://events", 200, {}, _Raw(b"{}")), parsed
        context["omni_partial"] = failed
        request["Entries"] = [entry for index, entry in enumerate(entries) if index not in failed]
        text = json.dumps(request)
        params["body"] = text.encode() if isinstance(body, bytes) else text
        return None

    @staticmethod
    def _restore_failures(parsed: dict[str, Any], failed: list[int]) -> None:
        answered = list(parsed.get("Entries", []))
        for index in failed:  # ascending: each goes back where its entry was
            answered.insert(index, {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service error."})
        parsed["Entries"] = answered
        parsed["FailedEntryCount"] = sum(1 for entry in answered if "ErrorCode" in entry)

    def _before_send(self, event_name: str, request: Any, **_: Any) -> AWSResponse | None:
        running = self._running
        if running is None:
            return None
        service, operation = _service_operation(event_name)
        if service == "dynamodb" and operation in DYNAMODB_READS | DYNAMODB_WRITES | DYNAMODB_TRANSACTIONS:
            if not self._draw("dynamodb-throttle"):
                return None
            code = (
                "ThrottlingException"
                if operation in DYNAMODB_TRANSACTIONS
                else "ProvisionedThroughputExceededException"
            )
            self._note(self._inject("dynamodb-throttle", operation, code))
            body = json.dumps(
                {
                    "__type": f"com.amazonaws.dynamodb.v20120810#{code}",
                    "message": "Throughput exceeds the current capacity of your table or index.",
                }
            )
            headers = {"x-amzn-RequestId": str(uuid.uuid4()), "Content-Type": "application/x-amz-json-1.0"}
            return _refused(request, AWSResponse(request.url, 400, headers, _Raw(body.encode())))
        if service == "s3" and operation == "GetObject" and running.function == LOADER:
            if not self._draw("s3-read-error"):
                return None
            code, status, message = S3_ERRORS[self.rng.randrange(len(S3_ERRORS))]
            self._note(self._inject("s3-read-error", operation, code))
            body = (
                f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
            )
            return _refused(
                request, AWSResponse(request.url, status, {"x-amz-request-id": uuid.uuid4().hex}, _Raw(body.encode()))
            )
        return None

    def _note(self, fault: Fault) -> None:
        """A fault on one HTTP attempt: the call's outcome (after-call) says whether the SDK's retries absorbed it."""
        self._call.append(fault)

    def _after_call(
        self, event_name: str, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        faults = self._take_call_faults()
        service, operation = _service_operation(event_name)
        if "omni_partial" in context:
            self._restore_failures(parsed, context.pop("omni_partial"))
        ok = http_response is not None and http_response.status_code < 300
        final = str(parsed.get("Error", {}).get("Code", "")) if not ok else ""
        for fault in faults:
            # Past the injected error (a later attempt got another answer, say a failed condition): the SDK retried.
            if ok or not fault.detail.endswith(final):
                self.absorb(fault, "retry (SDK)")
            else:
                self._escaped(fault)
        running = self._running
        if running is None or not ok:
            return
        if service == "eventbridge" and operation == "PutEvents":
            self._put_again(context, parsed)
        if running.function == PROCESSOR and service == "dynamodb" and operation in STATE_WRITES:
            running.state_writes += 1
            if running.crash_after is not None and running.state_writes >= running.crash_after:
                running.crash_after = None
                crash = self._inject("handler-crash", operation, f"after {running.state_writes} state write(s)")
                running.escaped.append(crash)
                raise _Crash

    def _put_again(self, context: dict[str, Any], parsed: dict[str, Any]) -> None:
        """Entries refused earlier and accepted now: the publisher's own retry, or the batch's retry by Lambda."""
        for trigger_id in context.pop("omni_put", []):
            for fault in self._unput.pop(trigger_id, []):
                same = self._running is not None and fault.invocation == self._running.number
                self.absorb(fault, "retry (publisher)" if same else "retry (Lambda)")

    def _after_call_error(self, event_name: str, context: dict[str, Any], **_: Any) -> None:
        for fault in self._take_call_faults():
            self._escaped(fault)

    def _escaped(self, fault: Fault) -> None:
        if self._running is not None:
            self._running.escaped.append(fault)

    def _take_call_faults(self) -> list[Fault]:
        taken, self._call = self._call, []
        return taken


def _refused(request: Any, answer: AWSResponse) -> AWSResponse:
    """The service's error answer, the request kept from moto.

    botocore asks every `before-send` handler and takes the first answer: moto's would
    still run the request (a throttled write would land). Pointed elsewhere, moto leaves it.
    """
    request.url = NOWHERE
    return answer


def _service_operation(event_name: str) -> tuple[str, str]:
    parts = event_name.split(".")
    return (parts[1], parts[2]) if len(parts) >= 3 else ("", "")


def _entry_key(entry: dict[str, Any]) -> str:
    """What names an entry put again: its trigger id, else its whole content (a state change's detail is its own)."""
    try:
        trigger_id = json.loads(entry.get("Detail", "{}")).get("trigger_id")
    except (TypeError, ValueError, AttributeError):
        trigger_id = None
    if trigger_id:
        return str(trigger_id)
    content = json.dumps([entry.get(name) for name in ("Source", "DetailType", "Detail")])
    return "entry-" + hashlib.sha256(content.encode()).hexdigest()[:16]


def _fell_back(answer: Any) -> bool:
    """Whether an answer says the rules decided alone: an API decision (`score_source`) or a rescoring (`source`)."""
    if not isinstance(answer, dict):
        return False
    body = answer.get("body")
    if isinstance(body, str) and body.startswith("{"):
        try:
            answer = json.loads(body)
        except ValueError:
            return False
    return isinstance(answer, dict) and "fallback" in (answer.get("score_source"), answer.get("source"))
