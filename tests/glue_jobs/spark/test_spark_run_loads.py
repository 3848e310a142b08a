"""The MDM loader consumes every Spark engine's run through S3 (moto) exactly as it consumes the local run."""

from __future__ import annotations

from glue_jobs.run_layout import manifest_key
from tests.glue_jobs.spark.conftest import SPARK_TIER, EntityResolutionRun, SparkRun, TwoRuns
from tests.lambdas.conftest import lambda_environment  # noqa: F401 - the loader's environment, as its tests set it
from tests.lambdas.mdm_loader.conftest import (  # noqa: F401 - fixtures of the loader tests
    IDENTITY_TABLE,
    MDM_PREFIX,
    Aws,
    Invoke,
    aws,
    curated_bucket_environment,
    invoke,
    manifest_event,
    upload,
)

pytestmark = SPARK_TIER


def _source_links(cloud: Aws) -> dict[str, str]:
    return {
        item["identifier"]["S"].removeprefix("source#"): item["customer_id"]["S"]
        for item in cloud.scan(IDENTITY_TABLE)
        if item["identifier"]["S"].startswith("source#")
    }


def test_given_two_splink_runs_in_s3_when_loaded_in_turn_then_every_record_resolves_to_its_latest_golden_id(
    aws: Aws,  # noqa: F811 - the loader tests' fixture, imported above
    invoke: Invoke,  # noqa: F811
    two_runs: TwoRuns,
) -> None:
    upload(aws.s3, two_runs.first.output)  # both runs share the folder: the second's manifest comes last

    first = invoke(manifest_event(MDM_PREFIX + manifest_key(two_runs.first.manifest["run_id"])))
    second = invoke(manifest_event(MDM_PREFIX + manifest_key(two_runs.second.manifest["run_id"])))

    assert first["profiles"]["created"] == two_runs.first.manifest["golden_records"]
    assert first["links_written"] == two_runs.first.manifest["identity_links"]
    assert second["merges_applied"] == two_runs.second.manifest["merges"] >= 1
    assert _source_links(aws) == two_runs.second.clusters()


def test_given_a_published_findmatches_run_in_s3_when_loaded_then_every_record_resolves_to_its_golden_id(
    aws: Aws,  # noqa: F811
    invoke: Invoke,  # noqa: F811
    findmatches_run: SparkRun,
) -> None:
    upload(aws.s3, findmatches_run.output)

    summary = invoke(manifest_event(MDM_PREFIX + manifest_key(findmatches_run.manifest["run_id"])))

    assert summary["profiles"]["created"] == findmatches_run.manifest["golden_records"]
    assert summary["links_written"] == findmatches_run.manifest["identity_links"]
    assert _source_links(aws) == findmatches_run.clusters()


def test_given_a_published_entity_resolution_run_in_s3_when_loaded_then_every_record_resolves_to_its_golden_id(
    aws: Aws,  # noqa: F811
    invoke: Invoke,  # noqa: F811
    entity_resolution_run: EntityResolutionRun,
) -> None:
    upload(aws.s3, entity_resolution_run.output)

    summary = invoke(manifest_event(MDM_PREFIX + manifest_key(entity_resolution_run.manifest["run_id"])))

    assert summary["profiles"]["created"] == entity_resolution_run.manifest["golden_records"]
    assert summary["links_written"] == entity_resolution_run.manifest["identity_links"]
    assert _source_links(aws) == entity_resolution_run.clusters()
