from __future__ import annotations

from glue_jobs.golden_ids import Merge, golden_id, merges_between


def test_given_same_members_in_any_order_when_ided_then_same_golden_id() -> None:
    assert golden_id(["crm:2", "loyalty:1"]) == golden_id(["loyalty:1", "crm:2"])
    assert golden_id(["crm:2"]) != golden_id(["crm:3"])
    assert golden_id(["crm:2"]).startswith("gc-")


def test_given_unchanged_clusters_when_re_run_then_no_merges() -> None:
    links = {"crm:1": golden_id(["crm:1", "pos:9"]), "pos:9": golden_id(["crm:1", "pos:9"])}
    assert merges_between(links, dict(links)) == []


def test_given_two_clusters_joined_when_re_run_then_the_vanished_id_merges_into_the_new_one() -> None:
    a, b = golden_id(["crm:1"]), golden_id(["crm:5"])
    joined = golden_id(["crm:1", "crm:5"])
    assert joined == a  # the smaller anchor keeps its id
    merges = merges_between({"crm:1": a, "crm:5": b}, {"crm:1": joined, "crm:5": joined})
    assert merges == [Merge(old_golden_id=b, new_golden_id=a)]


def test_given_a_new_record_with_smaller_key_when_re_run_then_old_id_merges_into_new_anchor() -> None:
    old = golden_id(["crm:5"])
    new = golden_id(["crm:0", "crm:5"])
    assert merges_between({"crm:5": old}, {"crm:0": new, "crm:5": new}) == [Merge(old, new)]


def test_given_a_split_when_re_run_then_the_anchor_keeps_its_id_and_nothing_merges() -> None:
    old = golden_id(["crm:1", "crm:2"])
    current = {"crm:1": golden_id(["crm:1"]), "crm:2": golden_id(["crm:2"])}
    assert merges_between({"crm:1": old, "crm:2": old}, current) == []
