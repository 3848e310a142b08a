"""The one Splink model definition of the customer matching engine (engine 2).

The same comparisons, blocking rules and settings serve the local DuckDB run and
the Glue 5.0 Spark run: Splink turns these backend-neutral creators into the SQL
dialect of whichever database API the linker is given. The model reads the
columns produced by `glue_jobs.normalise.normalise_frame`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import ColumnExpression, SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """The knobs of a matching run; defaults suit both the sandbox and a production batch.

    Attributes:
        threshold_match_probability: pairs at or above this probability join one cluster.
        u_max_pairs: random pairs sampled to estimate u (the chance of agreement among non-matches).
        u_chunks: chunks the u sample is drawn in. Splink chunks to stop early once every
            level has 100 observations; rare levels of this model (swapped names, equal
            e-mails) almost never get there among non-matches, so chunking only adds
            passes: one chunk halves training time at the same sample.
        seed: makes the u sample, and so the whole model, reproducible.
        prior_recall: assumed recall of the deterministic rules that estimate the match prior.
        m_floor: the m probability a comparison level is fixed at when expectation maximisation
            drives it to zero (a level that no match in the training pairs falls into, e.g. two
            copies of a customer with different birth dates when no source mistypes them); must
            stay well above float64 underflow, which Splink refuses.
    """

    threshold_match_probability: float = 0.95
    u_max_pairs: float = 3e5
    u_chunks: int = 1
    seed: int = 42
    prior_recall: float = 0.6
    m_floor: float = 1e-6

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold_match_probability < 1.0:
            raise ValueError(f"threshold_match_probability must lie in (0, 1), got {self.threshold_match_probability}")
        if not 0.0 < self.prior_recall <= 1.0:
            raise ValueError(f"prior_recall must lie in (0, 1], got {self.prior_recall}")
        if not 1e-300 < self.m_floor < 0.01:
            raise ValueError(f"m_floor must lie in (1e-300, 0.01), got {self.m_floor}")


def comparisons() -> list[ComparisonCreator | dict[str, Any]]:
    """How two records are compared, one comparison per attribute, strongest evidence first."""
    return [
        # Catches swapped first/last names and typos in either; nicknames are resolved by normalisation.
        cl.ForenameSurnameComparison("first_name", "last_name", jaro_winkler_thresholds=[0.92, 0.85]),
        # No datetime_format: normalisation writes ISO dates, and each backend's default format
        # parses them (DuckDB '%Y-%m-%d', Spark 'yyyy-MM-dd'); naming one dialect's pattern here
        # breaks the other (Spark 3 rejects strftime patterns).
        cl.DateOfBirthComparison(
            "date_of_birth",
            input_is_string=True,
            datetime_thresholds=[1, 10],
            datetime_metrics=["year", "year"],
        ),
        email_comparison(),
        cl.LevenshteinAtThresholds("phone", [1, 2]),
        cl.LevenshteinAtThresholds("postcode", [1, 2]),
        cl.JaroWinklerAtThresholds("city", [0.9]),
        cl.JaroWinklerAtThresholds("address_line", [0.9]),
    ]


def email_comparison() -> cl.CustomComparison:
    """E-mail: the same address, or the same user name at another domain; nothing fuzzy.

    User names are made from the name (john.smith12@, john.smith47@), so two customers who share
    a name have similar ones: Splink's `EmailComparison` rewards that with its Jaro-Winkler levels
    (u about 0.00005 among random pairs, some +12 bits) although the name comparison has already
    counted the same evidence, and at a million records it linked same-name strangers. An equal
    user name at another domain is a choice the customer made, not a product of the name.
    """
    email = ColumnExpression("email")
    user_name = email.regex_extract("^[^@]+")
    return cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel(email),
            cll.ExactMatchLevel(email).configure(tf_adjustment_column="email"),
            cll.ExactMatchLevel(user_name).configure(label_for_charts="Exact match on user name, other domain"),
            cll.ElseLevel(),
        ],
        output_column_name="email",
    )


def prediction_blocking_rules() -> list[BlockingRuleCreator | dict[str, Any]]:
    """Which pairs are scored at all: each rule lets duplicates that disagree elsewhere still meet.

    Every key combines attributes, so the pairs it forms grow with the data, not with its square:
    a single-column key (a birth date, a postcode, an address line, a city) pairs every customer
    sharing it, tens of millions of pairs at a million records. Several keys over the same
    attribute each add a second, different attribute, so a typo or a gap in one still meets
    through another; the swapped-name variants catch first and last names written the wrong
    way round. Check a change with `splink.blocking_analysis.count_comparisons_from_blocking_rules`
    (pairs per rule) and the FEBRL and synthetic F1 before keeping it (docs/data-steward.md).
    """
    initials_swapped = "substr(l.first_name, 1, 1) = substr(r.last_name, 1, 1) and substr(l.last_name, 1, 1) = substr(r.first_name, 1, 1)"
    return [
        # The same name in the same place or generation: a full name alone is shared by thousands.
        block_on("first_name", "last_name", "substr(city, 1, 1)"),
        block_on("first_name", "last_name", "substr(postcode, 1, 1)"),
        block_on("first_name", "last_name", "substr(date_of_birth, 1, 4)"),
        # Swapped first and last names: an equi-join across the two columns.
        CustomRule("l.first_name = r.last_name and l.last_name = r.first_name"),
        block_on("email"),
        block_on("phone"),
        block_on("date_of_birth", "substr(first_name, 1, 1)"),
        block_on("date_of_birth", "substr(last_name, 1, 1)"),
        CustomRule(f"l.date_of_birth = r.date_of_birth and {initials_swapped}"),
        block_on("date_of_birth", "substr(postcode, 1, 2)"),
        block_on("date_of_birth", "city"),
        # A postcode is shared by a street in the UK, by a whole arrondissement in France.
        block_on("postcode", "first_name"),
        block_on("postcode", "last_name"),
        block_on("postcode", "substr(first_name, 1, 1)", "substr(last_name, 1, 1)"),
        CustomRule(f"l.postcode = r.postcode and {initials_swapped}"),
        # House number and the start of the street.
        block_on("postcode", "substr(address_line, 1, 4)"),
        block_on("address_line", "city"),
        block_on("address_line", "substr(postcode, 1, 1)"),
        block_on("city", "last_name", "substr(first_name, 1, 2)"),
    ]


def training_blocking_rules() -> list[BlockingRuleCreator]:
    """EM sessions: each one estimates m for the comparisons its rule does not fix.

    The birth-date session adds the city (whose m the name session estimates): a birth date
    alone pairs every customer born that day, twenty million pairs to iterate over at a
    million records.
    """
    return [block_on("first_name", "last_name"), block_on("date_of_birth", "city")]


def deterministic_rules() -> list[str | BlockingRuleCreator]:
    """Near-certain matches, used only to estimate how likely two random records match."""
    return [
        "l.first_name = r.first_name and l.last_name = r.last_name and l.date_of_birth = r.date_of_birth",
        "l.email = r.email and l.last_name = r.last_name",
    ]


def build_settings() -> SettingsCreator:
    """The Splink settings of the customer model (dedupe across all sources at once)."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=prediction_blocking_rules(),
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
    )
