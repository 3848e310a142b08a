"""The rescoring use case over in-memory adapters: relevance, debounce, fallback, the conditional write-back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from eligibility.scoring import ScoringUnavailable
from omni_domain.memory_store import InMemoryCustomerRepository, InMemoryIdentityMap
from omni_domain.models import ErasureRecord, LiveState
from rescorer.fallback import RULES_VERSION, RulesInputs, rules_score
from rescorer.memory import InMemoryDebouncer, InMemoryPropensityWriter, ScriptedScorer
from rescorer.ports import ModelScores
from rescorer.rescoring import RescoreConflictError, Rescorer, is_model_relevant
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
        self.rescorer = Rescorer(
            customers=self.customers,
            debouncer=self.debouncer,
            scorer=self.scorer,
            writer=self.writer,
            products=PRODUCTS,
            debounce_window=timedelta(seconds=DEBOUNCE_SECONDS),
            clock=self.clock,
        )

    @property
    def state(self) -> LiveState | None:
        return self.customers.live_states.get(CUSTOMER_ID)


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
    assert world.rescorer.rescore(change(change_id="second")).status == "debounced"
    assert len(world.scorer.requests) == 1
    assert world.state is not None
    assert world.state.version == 6
    world.clock.advance(1)
    outcome = world.rescorer.rescore(change(change_id="third"))
    assert (outcome.status, outcome.model_version) == ("rescored", "xgb-fedcba9876543210")
    assert world.state.propensity == {"retention-offer": 0.9, "broadband": 0.1}
    assert world.state.version == 7


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


def test_given_no_state_item_then_nothing_is_written_and_the_next_change_is_not_debounced() -> None:
    world = World()
    del world.customers.live_states[CUSTOMER_ID]
    outcome = world.rescorer.rescore(change(record="profile", changed=["preferred_channel"]))
    assert (outcome.status, outcome.skip_reason) == ("skipped", "no-state")
    assert world.state is None
    assert world.writer.writes == 0
    world.customers.live_states[CUSTOMER_ID] = live_state()
    assert world.rescorer.rescore(change()).status == "rescored"


def test_given_no_profile_then_nothing_is_written() -> None:
    world = World()
    del world.customers.profiles[CUSTOMER_ID]
    outcome = world.rescorer.rescore(change())
    assert (outcome.status, outcome.skip_reason) == ("skipped", "no-profile")
    assert world.writer.writes == 0


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
