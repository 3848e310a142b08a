"""Stage-2 customer domain: Glue tables, least-privilege matching role, the FindMatches and Entity Resolution switches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template
from cfnlint.api import ManualArgs, lint_file
from statelint.config import Config as LintConfig
from statelint.linter import Linter
from statelint.problem import ProblemType

from glue_jobs import entity_resolution_schema as er_schema
from glue_jobs.customer_schema import SOURCE_COLUMNS
from infra.config import config_for
from infra.constructs.compliance import acknowledgement_audit
from infra.platform_app import synthesize
from infra.stacks.customer_domain_stack import SPLINK_REQUIREMENTS, glue_requirements
from infra.stages import Stage
from tests.infra.full_context import full_context

from .conftest import Synthesis, load_templates
from .test_cold_start import (  # noqa: F401 - runtime_folders is the cold-start tests' fixture
    OPT_IN_PACKAGES,
    RuntimeFolders,
    _deployed_functions,
    _lambda_environment,
    _probe,
    runtime_folders,
)
from .test_iam_conditions import condition_problems


def _domain(synthesis: Synthesis) -> Template:
    return Template.from_json(synthesis.template("customer-domain"))


def test_source_table_has_every_source_column_as_string(dev5: Synthesis) -> None:
    tables = _domain(dev5).find_resources("AWS::Glue::Table")
    (source,) = [t for t in tables.values() if t["Properties"]["TableInput"]["Name"] == "source_customers"]
    descriptor = source["Properties"]["TableInput"]["StorageDescriptor"]
    assert [c["Name"] for c in descriptor["Columns"]] == list(SOURCE_COLUMNS)
    assert {c["Type"] for c in descriptor["Columns"]} == {"string"}
    assert "omni-cx-dev-raw-" in json.dumps(descriptor["Location"])


def _statements(template: Template) -> list[dict[str, Any]]:
    """The matching jobs' role policy."""
    (policy,) = [
        p
        for p in template.find_resources("AWS::IAM::Policy").values()
        if "MatchingRole" in json.dumps(p["Properties"]["Roles"])
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_matching_role_reads_only_source_records_and_writes_only_under_mdm(dev5: Synthesis) -> None:
    statements = _statements(_domain(dev5))
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert not [a for a in actions if a.endswith("*")], "no action wildcards"
    object_grants = {
        json.dumps(s["Resource"]): s["Action"] for s in statements if "s3:GetObject" in json.dumps(s["Action"])
    }
    assert any("/customers/*" in resource for resource in object_grants)
    assert any("/mdm/*" in resource for resource in object_grants)
    lists = [s for s in statements if s["Action"] == "s3:ListBucket"]
    assert lists
    assert all("s3:prefix" in s["Condition"]["StringLike"] for s in lists)


def test_splink_is_the_default_engine_with_no_glue_2_resources(dev5: Synthesis) -> None:
    assert _domain(dev5).find_resources("AWS::Glue::MLTransform") == {}


@pytest.fixture(scope="module")
def findmatches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    context = full_context()
    context["omni:environments"]["prod"]["mdm"]["engine"] = "findmatches"
    outdir = tmp_path_factory.mktemp("findmatches")
    synthesize("prod", 2, str(outdir), context=context)  # raises on any unacknowledged nag finding
    template = next(t for name, t in load_templates(outdir).items() if name.endswith("customer-domain"))
    return outdir, template


def test_findmatches_engine_builds_an_encrypted_transform_on_the_keyed_table(
    findmatches: tuple[Path, dict[str, Any]],
) -> None:
    _, template = findmatches
    (transform,) = Template.from_json(template).find_resources("AWS::Glue::MLTransform").values()
    properties = transform["Properties"]
    assert properties["GlueVersion"] == "2.0"
    assert properties["TransformParameters"]["FindMatchesParameters"]["PrimaryKeyColumnName"] == "source_key"
    assert properties["TransformParameters"]["FindMatchesParameters"]["PrecisionRecallTradeoff"] == 0.9
    encryption = properties["TransformEncryption"]["MLUserDataEncryption"]
    assert encryption["MLUserDataEncryptionMode"] == "SSE-KMS"
    assert properties["InputRecordTables"]["GlueTables"][0]["TableName"] == "prepared_customers"


def test_findmatches_engine_warns_that_glue_2_is_end_of_life(findmatches: tuple[Path, dict[str, Any]]) -> None:
    outdir, _ = findmatches
    metadata = (outdir / "omni-cx-prod-customer-domain.metadata.json").read_text()
    assert "Glue 2.0, which reached end of life on 2026-04-01" in metadata
    assert "Set mdm.engine to 'splink'" in metadata


def test_findmatches_variant_passes_cfn_lint(findmatches: tuple[Path, dict[str, Any]]) -> None:
    outdir, _ = findmatches
    matches = lint_file(outdir / "omni-cx-prod-customer-domain.template.json", config=ManualArgs(regions=["eu-west-2"]))
    assert [str(m) for m in matches if m.rule.severity == "error"] == []


def test_splink_job_runs_on_current_glue_encrypted_with_the_package_and_the_schedule(dev5: Synthesis) -> None:
    template = _domain(dev5)
    (job,) = template.find_resources("AWS::Glue::Job").values()
    properties = job["Properties"]
    assert properties["GlueVersion"] == "5.0"
    arguments = properties["DefaultArguments"]
    assert arguments["--additional-python-modules"] == ",".join(glue_requirements(SPLINK_REQUIREMENTS))
    assert "/tmp/customer-matching/" in json.dumps(arguments["--TempDir"])
    assert arguments["--enable-metrics"] == "true"
    assert arguments["--threshold"] == "0.9"
    assert arguments["--extra-jars"]["Fn::Sub"].endswith(".jar")
    assert arguments["--extra-py-files"]["Fn::Sub"].endswith(".zip")
    assert "/customers/" in json.dumps(arguments["--input_path"])
    assert "/mdm/" in json.dumps(arguments["--output_path"])
    (security,) = template.find_resources("AWS::Glue::SecurityConfiguration").values()
    encryption = security["Properties"]["EncryptionConfiguration"]
    assert encryption["S3Encryptions"][0]["S3EncryptionMode"] == "SSE-KMS"
    assert encryption["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert encryption["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"
    assert properties["SecurityConfiguration"] == {
        "Ref": next(iter(template.find_resources("AWS::Glue::SecurityConfiguration")))
    }
    template.has_resource_properties(
        "AWS::Glue::Trigger",
        {"Type": "SCHEDULED", "Schedule": "cron(0 2 * * ? *)", "Actions": [{"JobName": properties["Name"]}]},
    )


def test_the_matching_role_publishes_job_metrics_only_to_glues_namespace(dev5: Synthesis) -> None:
    (metrics,) = [s for s in _statements(_domain(dev5)) if s["Action"] == "cloudwatch:PutMetricData"]
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Glue"}}


def test_the_matching_role_reads_and_writes_its_scratch_folder_only(dev5: Synthesis) -> None:
    resources = [
        json.dumps(s["Resource"]) for s in _statements(_domain(dev5)) if "s3:PutObject" in json.dumps(s["Action"])
    ]
    assert any("/tmp/customer-matching/*" in resource for resource in resources)
    assert not any('/tmp/*"' in resource for resource in resources)


def test_findmatches_runs_are_published_by_a_current_glue_job_when_findmatches_succeeds(
    findmatches: tuple[Path, dict[str, Any]],
) -> None:
    outdir, template = findmatches
    jobs = {
        job["Properties"]["Name"]: job["Properties"]
        for job in Template.from_json(template).find_resources("AWS::Glue::Job").values()
    }
    matching, publication = jobs["omni-cx-prod-customer-findmatches"], jobs["omni-cx-prod-customer-findmatches-publish"]
    assert matching["GlueVersion"] == "2.0"
    assert publication["GlueVersion"] == "5.0"
    script_hash = publication["Command"]["ScriptLocation"]["Fn::Sub"].rsplit("/", 1)[-1].removesuffix(".py")
    staged = outdir / f"asset.{script_hash}.py"
    assert staged.read_text() == (Path(__file__).parents[2] / "glue_jobs" / "findmatches_publish_job.py").read_text()
    assert "/mdm/findmatches/" in json.dumps(publication["DefaultArguments"]["--matched_path"])
    assert publication["DefaultArguments"]["--additional-python-modules"] == ",".join(
        glue_requirements(SPLINK_REQUIREMENTS)
    )
    Template.from_json(template).has_resource_properties(
        "AWS::Glue::Trigger",
        {
            "Type": "CONDITIONAL",
            "Predicate": {
                "Conditions": [
                    {"JobName": "omni-cx-prod-customer-findmatches", "LogicalOperator": "EQUALS", "State": "SUCCEEDED"}
                ]
            },
            "Actions": [{"JobName": "omni-cx-prod-customer-findmatches-publish"}],
        },
    )
    (rule,) = [
        r["Properties"]
        for r in Template.from_json(template).find_resources("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["source"] == ["aws.glue"]
    ]
    assert sorted(rule["EventPattern"]["detail"]["jobName"]) == sorted(jobs)


def test_a_failed_matching_run_alerts_the_alert_topic(dev5: Synthesis) -> None:
    (rule,) = [
        r
        for r in _domain(dev5).find_resources("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["source"] == ["aws.glue"]
    ]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail"]["state"] == ["FAILED", "TIMEOUT", "STOPPED"]
    assert "sns:eu-west-2" in json.dumps(rule["Properties"]["Targets"][0]["Arn"])
    assert ":omni-cx-dev-alerts" in json.dumps(rule["Properties"]["Targets"][0]["Arn"])


def test_the_job_package_holds_only_the_glue_jobs_package(dev5: Synthesis) -> None:
    packaged = [path for path in dev5.outdir.glob("asset.*") if path.is_dir() and (path / "glue_jobs").is_dir()]
    assert len(packaged) == 1
    assert sorted(p.name for p in packaged[0].iterdir()) == ["glue_jobs"]
    assert (packaged[0] / "glue_jobs" / "splink_job.py").is_file()
    assert not list(packaged[0].rglob("__pycache__"))


def test_the_role_reads_only_its_own_code_objects_from_the_staging_bucket(dev5: Synthesis) -> None:
    statements = _statements(_domain(dev5))
    staging = [
        (statement["Action"], json.dumps(resource))
        for statement in statements
        for resource in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
        if "cdk-hnb659fds-assets" in json.dumps(resource)
    ]
    assert len(staging) == 3  # the job script, the package and Splink's similarity jar
    for action, resource in staging:
        assert action == "s3:GetObject"
        assert resource.endswith(('.zip"]]}', '.py"]]}', '.jar"]]}')), resource


def test_a_published_run_manifest_invokes_the_loader_once_at_a_time(dev5: Synthesis) -> None:
    template = _domain(dev5)
    (rule,) = [
        r
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["source"] == ["aws.s3"]
    ]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"wildcard": "mdm/runs/run_id=*/manifest.json"}]
    assert "omni-cx-dev-curated-" in json.dumps(pattern["detail"]["bucket"]["name"])
    (loader,) = [
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "mdm_loader.handler.lambda_handler"
    ]
    assert loader["Properties"]["ReservedConcurrentExecutions"] == 1
    assert loader["Properties"]["Timeout"] == 900
    assert "DeadLetterConfig" in loader["Properties"]
    assert "MdmLoaderLive" in json.dumps(rule["Properties"]["Targets"][0]["Arn"])


def test_the_loader_reads_only_the_mdm_prefix_and_writes_with_named_actions(dev5: Synthesis) -> None:
    statements = [
        s
        for policy in _domain(dev5).find_resources("AWS::IAM::Policy").values()
        if "MdmLoaderRole" in json.dumps(policy["Properties"]["Roles"])
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {a for a in actions if a.startswith("dynamodb:")} == {
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:BatchWriteItem",
    }
    reads = [json.dumps(s["Resource"]) for s in statements if s["Action"] == "s3:GetObject"]
    assert reads
    assert all("/mdm/*" in resource for resource in reads)


# --- mdm.engine: entity-resolution (prod, stage 2) ----------------------------------------------------


def _variant(tmp_path_factory: pytest.TempPathFactory, matching: str) -> tuple[Path, dict[str, dict[str, Any]]]:
    context = full_context()
    context["omni:environments"]["prod"]["mdm"]["engine"] = "entity-resolution"
    context["omni:environments"]["prod"]["mdm"]["entity_resolution"]["matching"] = matching
    outdir = tmp_path_factory.mktemp(f"entity-resolution-{matching}")
    synthesize("prod", 2, str(outdir), context=context)  # raises on any unacknowledged nag finding
    return outdir, load_templates(outdir)


@pytest.fixture(scope="module")
def entity_resolution(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    return _variant(tmp_path_factory, "ml")


def _er_domain(variant: tuple[Path, dict[str, dict[str, Any]]]) -> Template:
    _, templates = variant
    return Template.from_json(next(t for name, t in templates.items() if name.endswith("customer-domain")))


def _only(template: Template, resource_type: str) -> dict[str, Any]:
    (resource,) = template.find_resources(resource_type).values()
    properties: dict[str, Any] = resource["Properties"]
    return properties


def test_entity_resolution_maps_the_customer_schema_with_source_key_as_the_unique_id(
    entity_resolution: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    mapping = _only(_er_domain(entity_resolution), "AWS::EntityResolution::SchemaMapping")
    fields = {field["FieldName"]: field for field in mapping["MappedInputFields"]}
    assert set(fields) == {"source_key", *SOURCE_COLUMNS}
    assert [name for name, field in fields.items() if field["Type"] == "UNIQUE_ID"] == ["source_key"]
    # Names and addresses are grouped (the service normalises only grouped sub-types), each one match key.
    assert {fields[n]["MatchKey"] for n in ("first_name", "last_name")} == {"name"}
    assert {fields[n]["GroupName"] for n in ("address_line", "city", "postcode", "country")} == {"address"}
    assert (fields["email"]["Type"], fields["phone"]["Type"], fields["date_of_birth"]["Type"]) == (
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "DATE",
    )
    # Provenance is carried through, never compared.
    assert not any("MatchKey" in fields[n] for n in ("source_system", "source_id", "updated_at", "source_key"))


def test_entity_resolution_builds_an_ml_workflow_over_the_prepared_table_writing_encrypted_to_curated(
    entity_resolution: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    template = _er_domain(entity_resolution)
    workflow = _only(template, "AWS::EntityResolution::MatchingWorkflow")
    assert workflow["WorkflowName"] == "omni-cx-prod-customer-matching"
    assert workflow["ResolutionTechniques"] == {"ResolutionType": "ML_MATCHING"}
    (source,) = workflow["InputSourceConfig"]
    assert json.dumps(source["InputSourceARN"]).endswith(':table/omni_cx_prod_lake/prepared_customers"]]}')
    assert source["SchemaArn"] == {
        "Fn::GetAtt": [next(iter(template.find_resources("AWS::EntityResolution::SchemaMapping"))), "SchemaArn"]
    }
    (output,) = workflow["OutputSourceConfig"]
    assert "omni-cx-prod-curated-" in json.dumps(output["OutputS3Path"])
    assert json.dumps(output["OutputS3Path"]).endswith('/mdm/entity-resolution/"]]}')
    assert "PlatformKey" in json.dumps(output["KMSArn"])
    assert [column["Name"] for column in output["Output"]] == ["source_key", *SOURCE_COLUMNS]
    assert not any(column["Hashed"] for column in output["Output"])
    # The prepared table's records come from the prepare job, the same Glue 5.0 kind as the publication.
    table = next(
        t["Properties"]["TableInput"]
        for t in template.find_resources("AWS::Glue::Table").values()
        if t["Properties"]["TableInput"]["Name"] == "prepared_customers"
    )
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["source_key", *SOURCE_COLUMNS]


def _role_statements(template: Template, role_fragment: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if role_fragment in json.dumps(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def test_the_workflow_role_is_trusted_for_this_workflow_only_and_reads_and_writes_only_its_prefixes(
    entity_resolution: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    template = _er_domain(entity_resolution)
    (role,) = [
        r["Properties"]
        for r in template.find_resources("AWS::IAM::Role").values()
        if "entityresolution.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
    ]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert json.dumps(trust["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(
        ':matchingworkflow/omni-cx-prod-customer-matching"]]}'
    )
    statements = _role_statements(template, "EntityResolutionRole")
    assert not [a for a in _actions(statements) if "*" in a], "no action wildcards"
    reads = [json.dumps(s["Resource"]) for s in statements if s["Action"] == "s3:GetObject"]
    writes = [json.dumps(s["Resource"]) for s in statements if "s3:PutObject" in json.dumps(s["Action"])]
    assert len(reads) == 1
    assert "/mdm/prepared/*" in reads[0]
    assert len(writes) == 1
    assert "/mdm/entity-resolution/*" in writes[0]
    (catalog,) = [s for s in statements if "glue:GetTable" in s["Action"]]
    assert not any("source_customers" in json.dumps(r) for r in catalog["Resource"])
    assert any("prepared_customers" in json.dumps(r) for r in catalog["Resource"])


def test_the_platform_key_lets_entity_resolution_use_it_for_this_accounts_matching_workflows_only(
    entity_resolution: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    _, templates = entity_resolution
    foundation = next(t for name, t in templates.items() if name.endswith("-foundation"))
    key = _only(Template.from_json(foundation), "AWS::KMS::Key")
    (statement,) = [
        s
        for s in key["KeyPolicy"]["Statement"]
        if s.get("Principal", {}).get("Service") == "entityresolution.amazonaws.com"
    ]
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert json.dumps(statement["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(':matchingworkflow/*"]]}')
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    # and every statement of the variant passes the platform's IAM condition checks
    assert condition_problems(templates) == []


def test_the_schedule_starts_the_pipeline_whose_steps_may_touch_only_its_workflow_job_and_topic(
    entity_resolution: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    template = _er_domain(entity_resolution)
    ((machine_id, machine),) = template.find_resources("AWS::StepFunctions::StateMachine").items()
    assert machine["Properties"]["StateMachineName"] == "omni-cx-prod-customer-matching"
    schedule = _only(template, "AWS::Scheduler::Schedule")
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["Target"]["Arn"] == {"Ref": machine_id}
    assert template.find_resources("AWS::Glue::Trigger") == {}, "no Glue schedule beside the pipeline"
    (steps,) = [
        f["Properties"]
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "matching_pipeline.handler.lambda_handler"
    ]
    variables = steps["Environment"]["Variables"]
    assert variables["MATCHING_WORKFLOW"] == "omni-cx-prod-customer-matching"
    assert variables["MATCHING_PUBLICATION_JOB"] == "omni-cx-prod-customer-er-publish"
    assert (variables["MATCHING_FIRST_POLL_SECONDS"], variables["MATCHING_MAX_POLL_SECONDS"]) == ("60", "900")
    statements = _role_statements(template, "MatchingPipelineStepsRole")
    by_action = {a: json.dumps(s["Resource"]) for s in statements for a in _actions([s])}
    for action in (
        "entityresolution:ListMatchingJobs",
        "entityresolution:StartMatchingJob",
        "entityresolution:GetMatchingJob",
    ):
        assert by_action[action].endswith(':matchingworkflow/omni-cx-prod-customer-matching"]]}')
    assert by_action["states:ListExecutions"].endswith(':stateMachine:omni-cx-prod-customer-matching"]]}')
    assert by_action["glue:StartJobRun"].endswith(':job/omni-cx-prod-customer-er-publish"]]}')
    assert by_action["sns:Publish"].endswith(':omni-cx-prod-alerts"]]}')
    assert not [a for a in _actions(statements) if a.startswith("entityresolution:") and "*" in a]


def test_the_publication_job_reads_the_workflow_output_and_holds_low_confidence_matches_apart(
    entity_resolution: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    outdir, _ = entity_resolution
    template = _er_domain(entity_resolution)
    jobs = {job["Properties"]["Name"]: job["Properties"] for job in template.find_resources("AWS::Glue::Job").values()}
    assert set(jobs) == {"omni-cx-prod-customer-er-prepare", "omni-cx-prod-customer-er-publish"}
    publication = jobs["omni-cx-prod-customer-er-publish"]
    assert publication["GlueVersion"] == "5.0"
    arguments = publication["DefaultArguments"]
    assert arguments["--min_confidence"] == "0.9"
    assert arguments["--workflow_name"] == "omni-cx-prod-customer-matching"
    assert json.dumps(arguments["--er_output_path"]).endswith('/mdm/entity-resolution/"]]}')
    for name, script in (
        ("omni-cx-prod-customer-er-publish", "entity_resolution_publish_job.py"),
        ("omni-cx-prod-customer-er-prepare", "entity_resolution_prepare_job.py"),
    ):
        script_hash = jobs[name]["Command"]["ScriptLocation"]["Fn::Sub"].rsplit("/", 1)[-1].removesuffix(".py")
        assert (outdir / f"asset.{script_hash}.py").read_text() == (
            Path(__file__).parents[2] / "glue_jobs" / script
        ).read_text()
    # A failed publication alerts like a failed match; the pipeline alerts on what it runs itself.
    (rule,) = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["source"] == ["aws.glue"]
    ]
    assert rule["EventPattern"]["detail"]["jobName"] == ["omni-cx-prod-customer-er-publish"]


def test_the_pipeline_alerts_the_platform_team_when_it_fails_times_out_or_is_aborted(
    entity_resolution: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    template = _er_domain(entity_resolution)
    metrics = {
        a["Properties"]["MetricName"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/States"
    }
    assert metrics == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    states = _definition(template)["States"]
    # Every step the pipeline runs itself alerts the platform team when it fails for good, then fails the run.
    tasks = {name: state for name, state in states.items() if state["Type"] == "Task" and name != "AlertPlatformTeam"}
    assert set(tasks) == {"ClaimTheRun", "PrepareInput", "StartMatchingJob", "LookAtMatchingJob"}
    for name, state in tasks.items():
        assert [catch["Next"] for catch in state["Catch"]] == ["AlertPlatformTeam"], name
    assert states["AlertPlatformTeam"]["Resource"].endswith(":states:::sns:publish")
    assert states["AlertPlatformTeam"]["Next"] == "PipelineFailed"
    # The wait before each look at the job is the one the step computed (the doubling backoff).
    assert states["WaitForMatchingJob"]["SecondsPath"] == "$.job.value.wait_seconds"
    assert states["PrepareInput"]["Resource"].endswith(":states:::glue:startJobRun.sync")


def test_the_pipeline_definition_is_valid_amazon_states_language(
    entity_resolution: tuple[Path, dict[str, dict[str, Any]]],
) -> None:
    # FLOAT: statelint's switch for numbers JSON cannot type (CDK writes BackoffRate 2.0 as 2, which Step
    # Functions accepts).
    problems = Linter.validate(_definition(_er_domain(entity_resolution)), LintConfig({ProblemType.FLOAT}))
    assert problems == []


def _definition(template: Template) -> dict[str, Any]:
    """The state machine's definition, its tokens (ARNs, partitions) replaced by a placeholder."""
    (_, parts) = _only(template, "AWS::StepFunctions::StateMachine")["DefinitionString"]["Fn::Join"]
    definition: dict[str, Any] = json.loads("".join(part if isinstance(part, str) else "TOKEN" for part in parts))
    return definition


def test_entity_resolution_variant_passes_cfn_lint_and_keeps_no_stale_acknowledgement(
    entity_resolution: tuple[Path, dict[str, dict[str, Any]]], tmp_path: Path
) -> None:
    outdir, _ = entity_resolution
    for stack in ("customer-domain", "foundation"):
        matches = lint_file(outdir / f"omni-cx-prod-{stack}.template.json", config=ManualArgs(regions=["eu-west-2"]))
        assert [str(m) for m in matches if m.rule.severity == "error"] == []
    context = full_context()
    context["omni:environments"]["prod"]["mdm"]["engine"] = "entity-resolution"
    with acknowledgement_audit() as acknowledgements, pytest.raises(RuntimeError, match="ValidationFailed"):
        synthesize("prod", 2, str(tmp_path), context=context)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    findings = {
        (violation["ruleName"], construct["constructPath"])
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
        for construct in violation["violatingConstructs"]
    }
    ours = [(path, finding) for path, finding in acknowledgements if "customer-domain" in path]
    assert ours
    stale = [
        (path, finding)
        for path, finding in ours
        if not any(
            finding in (rule, rule.split("[")[0]) and (where == path or where.startswith(path + "/"))
            for rule, where in findings
        )
    ]
    assert stale == []


def test_the_pipeline_function_imports_with_only_its_asset_the_layer_and_the_runtime(
    entity_resolution: tuple[Path, dict[str, dict[str, Any]]],
    runtime_folders: RuntimeFolders,  # noqa: F811 - the cold-start tests' fixture, imported above
) -> None:
    assert "matching_pipeline" in OPT_IN_PACKAGES  # the default apps' cold-start test leaves it to this one
    outdir, templates = entity_resolution
    region = config_for("prod").region
    synthesis = Synthesis("prod", Stage.CONSISTENT, outdir, templates=templates)
    (function,) = [f for f in _deployed_functions(synthesis, region) if f.handler.startswith("matching_pipeline.")]
    result = _probe(
        function.handler,
        [function.asset, runtime_folders.layer, runtime_folders.runtime],
        _lambda_environment(function, region),
    )
    assert result.returncode == 0, f"{function.handler} fails its cold start:\n{result.stdout}{result.stderr[-4000:]}"


def test_the_rules_option_runs_the_splink_models_deterministic_rules(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    outdir, templates = _variant(tmp_path_factory, "rules")
    template = _er_domain((outdir, templates))
    techniques = _only(template, "AWS::EntityResolution::MatchingWorkflow")["ResolutionTechniques"]
    assert techniques["ResolutionType"] == "RULE_MATCHING"
    rules = techniques["RuleBasedProperties"]["Rules"]
    assert [(rule["RuleName"], tuple(rule["MatchingKeys"])) for rule in rules] == list(er_schema.RULES)
    assert techniques["RuleBasedProperties"]["AttributeMatchingModel"] == "ONE_TO_ONE"
    publication = next(
        job["Properties"]
        for job in template.find_resources("AWS::Glue::Job").values()
        if job["Properties"]["Name"].endswith("er-publish")
    )
    assert "--min_confidence" not in publication["DefaultArguments"], "rules matches carry no confidence"
    matches = lint_file(outdir / "omni-cx-prod-customer-domain.template.json", config=ManualArgs(regions=["eu-west-2"]))
    assert [str(m) for m in matches if m.rule.severity == "error"] == []
