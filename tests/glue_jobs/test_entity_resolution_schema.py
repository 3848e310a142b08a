"""What Entity Resolution is told about the customer records: the schema mapping, the rules, the output layout."""

from __future__ import annotations

import re

import botocore.session
import pytest

from glue_jobs import entity_resolution_schema as er_schema
from glue_jobs.customer_schema import SOURCE_COLUMNS
from glue_jobs.matching_model import deterministic_rules

_SERVICE = botocore.session.get_session().get_service_model("entityresolution")


def _columns(rule: object) -> set[str]:
    """The columns a Splink deterministic rule (`l.x = r.x and ...`) requires to agree."""
    pairs = re.findall(r"l\.(\w+)\s*=\s*r\.(\w+)", str(rule))
    assert pairs, f"not an equality rule: {rule}"
    assert all(left == right for left, right in pairs), f"a rule across two columns: {rule}"
    return {left for left, _ in pairs}


def test_the_rules_option_is_the_splink_models_deterministic_rules_under_their_match_keys() -> None:
    expected = [{er_schema.match_key_of(column) for column in _columns(rule)} for rule in deterministic_rules()]
    assert [set(keys) for _name, keys in er_schema.RULES] == expected
    assert len({name for name, _keys in er_schema.RULES}) == len(er_schema.RULES)


def test_every_source_column_is_mapped_and_returned_with_one_unique_id() -> None:
    mapped = [field.field_name for field in er_schema.MAPPED_FIELDS]
    assert sorted(mapped) == sorted([er_schema.UNIQUE_ID_FIELD, *SOURCE_COLUMNS])
    assert [f.field_name for f in er_schema.MAPPED_FIELDS if f.type == "UNIQUE_ID"] == ["source_key"]
    assert set(er_schema.OUTPUT_COLUMNS) == set(mapped)


def test_the_mapping_uses_only_attribute_types_the_service_knows() -> None:
    types = set(_SERVICE.shape_for("SchemaAttributeType").enum)
    assert {field.type for field in er_schema.MAPPED_FIELDS} <= types
    name_pattern = re.compile(_SERVICE.shape_for("AttributeName").metadata["pattern"])
    for field in er_schema.MAPPED_FIELDS:
        for value in (field.field_name, field.match_key, field.group_name):
            assert value is None or name_pattern.fullmatch(value), value
    rule_name = re.compile(_SERVICE.shape_for("RuleRuleNameString").metadata["pattern"])
    assert all(rule_name.fullmatch(name) for name, _keys in er_schema.RULES)


def test_a_column_that_is_never_compared_has_no_match_key() -> None:
    with pytest.raises(KeyError):
        er_schema.match_key_of("source_id")


def test_a_jobs_matched_records_are_in_its_success_folder() -> None:
    assert (
        er_schema.job_output("s3://curated/mdm/entity-resolution/", "omni-cx-prod-customer-matching", "a" * 32)
        == f"s3://curated/mdm/entity-resolution/omni-cx-prod-customer-matching/{'a' * 32}/success/"
    )
