"""The rescoring use case over in-memory adapters: relevance, leading and trailing debounce, fallback,
the conditional write-back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from eligibility.scoring import ScoringUnavailable
from omni_domain.models import ErasureRecord, LiveState
from omni_testing.customers import InMemoryCustomerRepository, InMemoryIdentityMap
from omni_testing.rescorer import InMemoryDebouncer, InMemoryDelayQueue, InMemoryPropensityWriter, ScriptedScorer
from rescorer.fallback import RULES_VERSION, RulesInputs, rules_score
from rescorer.ports import ModelScores, TrailingRescore
from rescorer.rescoring import (
    MAX_DELAY_SECONDS,
    RescoreConflictError,
    RescoreOutcome,
    Rescorer,
    is_model_relevant,
    trailing_delay_seconds,
)
from state_publisher.changes import MODEL_RELEVANT_FIELDS, CustomerStateChanged
from tests.lambdas.conftest import CUSTOMER_ID

from .conftest import DEBOUNCE_SECONDS, NOW, PII, PRODUCTS, Clock, live_state, profile, state_event

MODEL = ModelScores((0.81, 0.27), "xgb-0123456789abcdef")


def change(**detail: Any) -> CustomerStateChanged:
    return CustomerStateChanged.model_validate(state_event(**detail)["detail"])


class World:
    def __init__(self, *answers: ModelScores | Exception, state: LiveState | None = None) -> None:
        self.customers = InMemoryCustomerRepository(InMemoryIdentityMap())
        self.customers.profiles[CUSTOMER_ID] = profile()
        self.customers.live_states[CUSTOMER_ID] = state or live_state()
        self.debouncer = InMemoryDebouncer()
        self.scorer = ScriptedScorer(*(answers or (MODEL,)))
        self.writer = InMemoryPropensityWriter(self.customers)
        self.clock = Clock()
        self.delays = InMemoryDelayQueue()
        self.rescorer = Rescorer(
            customers=self.customers,
            debouncer=self.debouncer,
            scorer=self.scorer,
            writer=self.writer,
            products=PRODUCTS,
            debounce_window=timedelta(seconds=DEBOUNCE_SECONDS),
            delays=self.delays,
            clock=self.clock,
        )

    @property
    def state(self) -> LiveState | None:
        return self.customers.live_states.get(CUSTOMER_ID)

    def change_state(self, **update: Any) -> None:
        """The event processor writes the live state (a new version)."""
        state = self.customers.live_states[CUSTOMER_ID]
        self.customers.live_states[CUSTOMER_ID] = state.model_copy(update={**update, "version": state.version + 1})

    def deliver(self) -> RescoreOutcome:
        """The oldest delayed message, delivered now (the test has moved the clock past its delay)."""
        return self.rescorer.rescore_trailing(self.delays.take().rescore)


def test_given_a_relevant_change_when_rescored_then_every_product_is_scored_in_one_request_and_written() -> None:
    world = World()
    outcome = world.rescorer.rescore(change())
    assert (outcome.status, outcome.source, outcome.model_version) == ("rescored", "model", MODEL.model_version)
    state = world.state
    assert state is not None
    assert state.propensity == {"retention-offer": 0.81, "broadband": 0.27}
    assert (state.propensity_model, state.propensity_scored_at, state.version) == (MODEL.model_version, NOW, 6)
    [rows] = world.scorer.requests
    assert [row["product"] for row in rows] == list(PRODUCTS)
    assert rows[0]["spend_365d"] == 820.0
    assert rows[0]["purchases"] == 3.0
    assert rows[0]["cart_status"] == "active"


def test_the_model_is_sent_facts_only_never_personal_data() -> None:
    world = World()
    world.rescorer.rescore(change())
    sent = repr(world.scorer.requests)
    assert not [value for value in PII if value in sent]


@pytest.mark.parametrize(
    "detail",
    [
        pytest.param({"changed": ["last_interaction"]}, id="live-state-without-model-fields"),
        pytest.param(
            {"changed": ["propensity", "propensity_model", "propensity_scored_at"]}, id="the-rescorers-own-write"
        ),
        pytest.param({"record": "profile", "changed": ["email", "first_name", "language"]}, id="profile-pii-only"),
        pytest.param(
            {"record": "live_state", "change": "removed", "changed": ["counters"], "version": None}, id="removed"
        ),
        pytest.param(
            {"record": "erasure", "change": "created", "changed": ["erased_at"], "version": None}, id="erasure"
        ),
    ],
)
def test_given_a_change_the_model_cannot_see_when_handled_then_nothing_is_read_scored_claimed_or_written(
    detail: dict[str, Any],
) -> None:
    world = World()
    outcome = world.rescorer.rescore(change(**detail))
    assert (outcome.status, outcome.skip_reason) == ("skipped", "irrelevant")
    assert world.scorer.requests == []
    assert world.debouncer.claims == {}
    assert world.writer.writes == 0


@pytest.mark.parametrize("name", MODEL_RELEVANT_FIELDS)
def test_every_model_relevant_field_alone_makes_a_change_relevant(name: str) -> None:
    record = "profile" if name in ("date_of_birth", "preferred_channel", "consent") else "live_state"
    assert is_model_relevant(change(record=record, changed=[name]))


def test_given_a_second_change_inside_the_window_then_it_is_debounced_and_after_the_window_it_rescores() -> None:
    world = World(MODEL, ModelScores((0.9, 0.1), "xgb-fedcba9876543210"))
    assert world.rescorer.rescore(change()).status == "rescored"
    world.clock.advance(DEBOUNCE_SECONDS - 1)
    outcome = world.rescorer.rescore(change(change_id="second"))
    assert (outcome.status, outcome.trailing_delay_seconds) == ("debounced", 1)
    assert len(world.scorer.requests) == 1
    assert world.state is not None
    assert world.state.version == 6
    world.clock.advance(1)
    outcome = world.rescorer.rescore(change(change_id="third"))
    assert (outcome.status, outcome.model_version) == ("rescored", "xgb-fedcba9876543210")
    assert world.state.propensity == {"retention-offer": 0.9, "broadband": 0.1}
    assert world.state.version == 7
    # The trailing message of the first window finds the third change's newer window: nothing more to do.
    assert (world.deliver().skip_reason, world.writer.writes) == ("superseded", 2)


def cart(status: str) -> dict[str, Any]:
    state = live_state()
    assert state.cart is not None
    return {"cart": state.cart.model_copy(update={"status": status})}


def test_given_a_burst_inside_the_window_then_the_trailing_rescore_scores_its_final_state() -> None:
    # Given a rescore of the active cart (the rules score: it depends on the cart's status)
    world = World(ScoringUnavailable("timeout"))
    assert world.rescorer.rescore(change(changed=["cart"])).status == "rescored"
    active = world.state.propensity if world.state else None
    # When the cart is abandoned inside the window, then changed again
    world.clock.advance(10)
    world.change_state(**cart("abandoned"))
    first = world.rescorer.rescore(change(change_id="abandoned", changed=["cart"]))
    world.clock.advance(5)
    world.change_state(journey_stage="at-risk")
    second = world.rescorer.rescore(change(change_id="stage", changed=["journey_stage"]))
    # Then both are debounced, and only the first schedules the window's one trailing rescore, due at its end
    assert (first.status, first.trailing_delay_seconds) == ("debounced", DEBOUNCE_SECONDS - 10)
    assert (second.status, second.trailing_delay_seconds) == ("debounced", None)
    [message] = world.delays.sent
    assert message.rescore == TrailingRescore(CUSTOMER_ID, NOW, "abandoned")
    assert world.state is not None
    assert world.state.propensity == active  # still the stale score of the active cart
    # And when the delayed message arrives, the final state is scored, claiming a fresh window
    world.clock.advance(message.delay_seconds - 5)
    outcome = world.deliver()
    assert (outcome.status, outcome.source) == ("rescored", "fallback")
    abandoned = rules_score(
        RulesInputs(spend_365d=820, purchases=3, complaints=1, friction_points=1, cart_status="abandoned")
    )
    assert world.state.propensity == dict.fromkeys(PRODUCTS, abandoned) != active
    assert world.state.version == 9
    assert world.debouncer.claims[CUSTOMER_ID] == NOW + timedelta(seconds=DEBOUNCE_SECONDS)
    # And a change inside the fresh window schedules that window's own trailing rescore
    world.clock.advance(1)
    assert world.rescorer.rescore(change(change_id="later", changed=["cart"])).trailing_delay_seconds == (
        DEBOUNCE_SECONDS - 1
    )


def test_given_the_window_ends_with_no_debounced_change_then_nothing_is_scheduled() -> None:
    world = World()
    world.rescorer.rescore(change())
    world.clock.advance(DEBOUNCE_SECONDS)
    assert world.rescorer.rescore(change(change_id="after")).status == "rescored"
    assert world.delays.sent == []


def test_given_a_delayed_message_for_an_erased_customer_then_it_does_nothing() -> None:
    world = World()
    world.rescorer.rescore(change())
    world.clock.advance(30)
    world.rescorer.rescore(change(change_id="second"))
    del world.customers.profiles[CUSTOMER_ID]
    del world.customers.live_states[CUSTOMER_ID]
    world.customers.erasures[CUSTOMER_ID] = ErasureRecord(
        customer_id=CUSTOMER_ID, erased_at=NOW, removed_profile=True, removed_live_state=True, removed_identifiers={}
    )
    world.clock.advance(DEBOUNCE_SECONDS)
    outcome = world.deliver()
    assert (outcome.status, outcome.skip_reason) == ("skipped", "erased")
    assert world.state is None
    assert (len(world.scorer.requests), world.writer.writes) == (1, 1)  # the leading rescore's only
    assert world.delays.sent == []
    assert world.debouncer.claims == {}  # no trace of the erased customer is kept


def test_given_a_window_longer_than_sqs_can_delay_then_the_message_waits_again_for_the_rest() -> None:
    world = World(MODEL, ModelScores((0.3, 0.4), "xgb-fedcba9876543210"))
    world.rescorer = replace(world.rescorer, debounce_window=timedelta(hours=1))
    world.rescorer.rescore(change())
    world.clock.advance(100)
    assert world.rescorer.rescore(change(change_id="second")).trailing_delay_seconds == MAX_DELAY_SECONDS
    waits = []
    while world.delays.sent:
        message = world.delays.take()
        waits.append(message.delay_seconds)
        world.clock.advance(message.delay_seconds)
        outcome = world.rescorer.rescore_trailing(message.rescore)
    assert waits == [900, 900, 900, 800]
    assert (outcome.status, outcome.model_version) == ("rescored", "xgb-fedcba9876543210")
    assert world.clock.now == NOW + timedelta(hours=1)


def test_given_the_delay_queue_fails_then_the_error_propagates_and_the_next_change_schedules_again() -> None:
    world = World()
    world.rescorer.rescore(change())
    world.clock.advance(10)
    world.delays.fail_with = ConnectionError("sqs")
    with pytest.raises(ConnectionError):
        world.rescorer.rescore(change(change_id="second"))
    assert CUSTOMER_ID not in world.debouncer.pending  # the retry (or the next change) is not lost
    world.delays.fail_with = None
    assert world.rescorer.rescore(change(change_id="second")).trailing_delay_seconds == DEBOUNCE_SECONDS - 10
    assert len(world.delays.sent) == 1


@pytest.mark.parametrize(
    ("seconds", "delay"), [(-3, 0), (0, 0), (0.2, 1), (299.5, 300), (900, 900), (901, 900), (86400, 900)]
)
def test_the_delay_is_the_rest_of_the_window_in_whole_seconds_within_sqs_limits(seconds: float, delay: int) -> None:
    assert trailing_delay_seconds(timedelta(seconds=seconds)) == delay


def test_debounce_is_per_customer() -> None:
    world = World()
    other = "gc-ffffffffffffffffffff"
    world.customers.profiles[other] = profile(other)
    world.customers.live_states[other] = live_state()
    assert world.rescorer.rescore(change()).status == "rescored"
    assert world.rescorer.rescore(change(customer_id=other)).status == "rescored"


@pytest.mark.parametrize("reason", ["no-endpoint", "timeout", "error", "bad-response"])
def test_given_the_model_is_unavailable_when_rescored_then_the_rules_score_is_written_with_the_rules_version(
    reason: Any,
) -> None:
    world = World(ScoringUnavailable(reason))
    outcome = world.rescorer.rescore(change())
    assert (outcome.status, outcome.source, outcome.fallback_reason) == ("rescored", "fallback", reason)
    expected = rules_score(
        RulesInputs(spend_365d=820, purchases=3, complaints=1, friction_points=1, cart_status="active")
    )
    assert world.state is not None
    assert world.state.propensity == dict.fromkeys(PRODUCTS, expected)
    assert (world.state.propensity_model, world.state.version) == (RULES_VERSION, 6)


def test_given_an_answer_with_too_few_scores_then_it_is_a_bad_response_and_the_rules_score_is_written() -> None:
    world = World(ModelScores((0.4,), "xgb-0123456789abcdef"))
    outcome = world.rescorer.rescore(change())
    assert (outcome.source, outcome.fallback_reason, outcome.model_version) == (
        "fallback",
        "bad-response",
        RULES_VERSION,
    )


def test_given_a_concurrent_write_that_changes_nothing_the_model_sees_then_the_write_is_retried_without_rescoring() -> (
    None
):
    world = World()
    raced: list[str] = []

    def event_processor_writes(customer_id: str) -> None:
        if not raced:  # only the first attempt races
            raced.append(customer_id)
            state = world.customers.live_states[customer_id]
            world.customers.live_states[customer_id] = state.model_copy(update={"version": state.version + 1})

    world.writer.before_write = event_processor_writes
    outcome = world.rescorer.rescore(change())
    assert (outcome.status, outcome.stale_retries) == ("rescored", 1)
    assert len(world.scorer.requests) == 1
    assert world.state is not None
    assert world.state.version == 7


def test_given_a_concurrent_write_that_changes_the_facts_then_the_retry_scores_the_new_facts() -> None:
    world = World(MODEL, ModelScores((0.2, 0.3), "xgb-0123456789abcdef"))
    raced: list[str] = []

    def purchase_lands(customer_id: str) -> None:
        if not raced:
            raced.append(customer_id)
            world.customers.live_states[customer_id] = live_state(version=6, purchases=4)

    world.writer.before_write = purchase_lands
    outcome = world.rescorer.rescore(change())
    assert outcome.stale_retries == 1
    assert [rows[0]["purchases"] for rows in world.scorer.requests] == [3.0, 4.0]
    assert world.state is not None
    assert (world.state.propensity["retention-offer"], world.state.version) == (0.2, 7)


def test_given_the_state_keeps_changing_then_the_conflict_is_raised_and_the_claim_released() -> None:
    world = World()

    def always_races(customer_id: str) -> None:
        state = world.customers.live_states[customer_id]
        world.customers.live_states[customer_id] = state.model_copy(update={"version": state.version + 1})

    world.writer.before_write = always_races
    with pytest.raises(RescoreConflictError):
        world.rescorer.rescore(change())
    assert world.writer.writes == 2
    assert world.debouncer.claims == {}  # the retried invocation is not debounced


def test_given_no_state_item_then_nothing_is_written_and_the_claim_is_kept_for_the_window() -> None:
    world = World()
    del world.customers.live_states[CUSTOMER_ID]
    outcome = world.rescorer.rescore(change(record="profile", changed=["preferred_channel"]))
    assert (outcome.status, outcome.skip_reason) == ("skipped", "no-state")
    assert world.state is None
    assert world.writer.writes == 0
    # A provisional customer's next change costs no read inside the window; its trailing rescore finds the state.
    world.customers.live_states[CUSTOMER_ID] = live_state()
    world.clock.advance(1)
    assert world.rescorer.rescore(change()).status == "debounced"
    world.clock.advance(DEBOUNCE_SECONDS - 1)
    assert world.deliver().status == "rescored"


def test_given_no_profile_then_nothing_is_written() -> None:
    world = World()
    del world.customers.profiles[CUSTOMER_ID]
    outcome = world.rescorer.rescore(change())
    assert (outcome.status, outcome.skip_reason) == ("skipped", "no-profile")
    assert world.writer.writes == 0
    assert world.debouncer.claims == {CUSTOMER_ID: NOW}


def test_given_an_erased_customer_then_nothing_is_scored_or_written() -> None:
    world = World()
    del world.customers.profiles[CUSTOMER_ID]
    del world.customers.live_states[CUSTOMER_ID]
    world.customers.erasures[CUSTOMER_ID] = ErasureRecord(
        customer_id=CUSTOMER_ID, erased_at=NOW, removed_profile=True, removed_live_state=True, removed_identifiers={}
    )
    outcome = world.rescorer.rescore(change())
    assert (outcome.status, outcome.skip_reason) == ("skipped", "erased")
    assert world.scorer.requests == []
    assert world.state is None


def test_given_the_customer_is_erased_between_read_and_write_then_the_state_is_not_recreated() -> None:
    world = World()

    def erasure_lands(customer_id: str) -> None:
        world.customers.profiles.pop(customer_id, None)
        world.customers.live_states.pop(customer_id, None)
        world.customers.erasures[customer_id] = ErasureRecord(
            customer_id=customer_id,
            erased_at=NOW,
            removed_profile=True,
            removed_live_state=True,
            removed_identifiers={},
        )

    world.writer.before_write = erasure_lands
    outcome = world.rescorer.rescore(change())
    assert (outcome.status, outcome.skip_reason, outcome.stale_retries) == ("skipped", "erased", 1)
    assert world.state is None


def test_given_the_scorer_fails_unexpectedly_then_the_error_propagates_and_the_claim_is_released() -> None:
    world = World(RuntimeError("bug"))
    with pytest.raises(RuntimeError):
        world.rescorer.rescore(change())
    assert world.debouncer.claims == {}
