"""Stage 2 customer domain (MDM): one golden customer per real person.

Source customer records land in the raw bucket under `customers/` (a Glue table
describes them); a scheduled matching job de-duplicates them into golden records
and identity links in the curated bucket; a loader publishes the identity map
that the real-time services use to resolve any identifier to a golden id.

The matching engine is chosen by `mdm.engine`:
- `splink` (default): the project's Splink model on current Glue (Spark);
- `entity-resolution`: AWS Entity Resolution, the managed service: a schema
  mapping of the customer schema and a matching workflow (ML-based, or the Splink
  model's deterministic rules with `mdm.entity_resolution.matching: rules`) over the
  prepared table, writing to the curated bucket with the platform key. A state
  machine on the schedule claims the night (one run at a time), prepares the input,
  starts the matching job, polls it with a doubling wait, then starts a Glue 5.0 job
  that publishes the output through the same survivorship and publication code as
  the Splink job, or alerts the platform team when the job failed;
- `findmatches`: AWS Glue FindMatches, which only runs on Glue 2.0 (end of life
  2026-04-01): synthesis warns when it is selected. A Glue 5.0 job publishes each
  FindMatches run (its `match_id` clusters through the same survivorship and
  publication code as the Splink job), so the loader fires for every engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Annotations, ArnFormat, Duration, IgnoreMode
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_entityresolution as entityresolution
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from glue_jobs import entity_resolution_schema as er_schema
from glue_jobs.customer_schema import SOURCE_COLUMNS
from glue_jobs.label_file import PRIMARY_KEY
from glue_jobs.local_spark import SIMILARITY_JAR
from infra.constructs.alarms import Watch, alarm_at_or_above
from infra.constructs.compliance import acknowledge, acknowledge_grant_policy
from infra.constructs.glue_job_role import GlueJobRole
from infra.constructs.lake_access import grant_prefix_read, grant_prefix_read_write, grant_prefix_write
from infra.constructs.log_group import encrypted_log_group
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.platform_table import PlatformTable
from infra.constructs.state_machine_failures import alert_then_fail, guard
from infra.constructs.table_access import grant_table
from infra.stacks.foundation_stack import JOB_TEMP_PREFIX, FoundationStack
from infra.stacks.platform_stack import PlatformStack
from infra.stages import Stage
from matching_pipeline import constants as pipeline_constants
from mdm_loader import constants as loader_constants
from omni_domain import constants

SOURCE_PREFIX = "customers/"
SOURCE_TABLE = "source_customers"
MDM_PREFIX = "mdm/"
PREPARED_PREFIX = f"{MDM_PREFIX}prepared/"
PREPARED_TABLE = "prepared_customers"
REPOSITORY = Path(__file__).resolve().parents[2]
GLUE_JOBS = REPOSITORY / "glue_jobs"
SPLINK_GLUE_VERSION = "5.0"  # Spark 3.5.4, Python 3.11, Java 17: the Spark the tests run (glue_jobs.local_spark)
SPLINK_REQUIREMENTS = GLUE_JOBS / "splink_job_requirements.txt"
# Per-run scratch (Splink's intermediate tables) under the curated bucket's temporary prefix.
MATCHING_TEMP_PREFIX = f"{JOB_TEMP_PREFIX}customer-matching/"
FINDMATCHES_OUTPUT_PREFIX = f"{MDM_PREFIX}findmatches/"
# Entity Resolution writes <prefix><workflow>/<job id>/success|error/ here (glue_jobs.entity_resolution_schema).
ER_OUTPUT_PREFIX = f"{MDM_PREFIX}entity-resolution/"
ER_SERVICE = "entityresolution.amazonaws.com"
# What the service reads of the catalog: the database and the prepared table (and its partitions, if any).
ER_CATALOG_ACTIONS = ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions"]
# Errors a pipeline Task retries: throttling and transient faults, as Step Functions names them. A step that
# raises PipelineError (a service refused a call after botocore's own retries) gets a few more tries; a bad
# event (StepInputError) or a job that ran and failed is never retried.
PIPELINE_TRANSIENT = ("PipelineError",)
GLUE_TRANSIENT = (
    "Glue.AWSGlueException",
    "Glue.ConcurrentRunsExceededException",
    "Glue.InternalServiceException",
    "Glue.OperationTimeoutException",
)
# The zip for --extra-py-files holds the glue_jobs package at its root, nothing else.
_PACKAGE_ONLY = ["/*", "!/glue_jobs/", "__pycache__/"]
GLUE_2_EOL_WARNING = (
    "mdm.engine is 'findmatches': AWS Glue FindMatches runs only on Glue 2.0, which reached end of life on "
    "2026-04-01 and may no longer accept new jobs. Set mdm.engine to 'splink' in cdk.json to deploy the "
    "same match-then-survive contract on current Glue."
)


class CustomerDomainStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        mdm = self.config.environment.mdm
        self._customer_tables(foundation)
        self.source_table = self._source_table(foundation)

        self.matching = GlueJobRole(
            self,
            "Matching",
            name=self.config.resource_name("glue-security"),
            description="Customer matching jobs: read source records, write golden records and links",
            key=foundation.key,
        )
        self.glue_role = self.matching.role
        self.security_configuration = self.matching.security_configuration
        grant_prefix_read(self.glue_role, foundation.raw, SOURCE_PREFIX, why="the source customer records")
        grant_prefix_read_write(
            self.glue_role, foundation.curated, MDM_PREFIX, why="prepared records, golden records and identity links"
        )
        grant_prefix_read_write(
            self.glue_role, foundation.curated, MATCHING_TEMP_PREFIX, why="the matching run's intermediate tables"
        )
        self.matching.publish_job_metrics()
        self._catalog_access(foundation)

        self.pipeline: sfn.StateMachine | None = None
        self.publication_job: glue.CfnJob | None = None
        if mdm.engine == "findmatches":
            Annotations.of(self).add_warning_v2("omni:mdm:glue2-end-of-life", GLUE_2_EOL_WARNING)
            self._find_matches_transform(foundation)
            self.matching_job = self._find_matches_job(foundation)
            self.publication_job = self._find_matches_publication_job(foundation)
            watched = [self.matching_job, self.publication_job]
        elif mdm.engine == "entity-resolution":
            self.publication_job = self._entity_resolution(foundation)
            # The pipeline alerts on everything it runs itself; the publication runs on its own once started.
            watched = [self.publication_job]
        else:
            self.matching_job = self._splink_job(foundation)
            watched = [self.matching_job]
        self._schedule_and_alarm(foundation, watched)
        self._loader(foundation)

    def _loader(self, foundation: FoundationStack) -> None:
        """Publishes each completed matching run: golden profiles and identity links into DynamoDB.

        The run's manifest is written last, so its creation (an S3 event on EventBridge) means the
        run is complete. One load at a time (reserved concurrency 1); a failed load is retried by
        Lambda's asynchronous invocation and then kept in the function's dead-letter queue.
        """
        self.loader = PlatformFunction(
            self,
            "MdmLoader",
            config=self.config,
            handler=loader_constants.MDM_LOADER_HANDLER,
            description="MDM loader: golden profiles, identity links and merges of a matching run into DynamoDB",
            service=loader_constants.MDM_LOADER_SERVICE,
            encryption_key=foundation.key,
            alert_topic=foundation.alert_topic_for(self),
            timeout_seconds=900,
            reserved_concurrency=1,
            asynchronous=True,
            environment={
                constants.ENV_CUSTOMER_TABLE: self.customer_table.table_name,
                constants.ENV_IDENTITY_TABLE: self.identity_table.table_name,
                loader_constants.ENV_CURATED_BUCKET: foundation.curated.name,
            },
        )
        role = self.loader.role
        grant_prefix_read(role, foundation.curated, MDM_PREFIX, why="the golden records, links and merges of a run")
        grant_table(
            role,
            self.customer_table,
            foundation.key,
            actions=("dynamodb:Query", "dynamodb:PutItem", "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem"),
        )
        grant_table(
            role,
            self.identity_table,
            foundation.key,
            actions=("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"),
            indexes=(constants.IDENTITY_BY_CUSTOMER_INDEX,),
        )
        acknowledge_grant_policy(role)
        events.Rule(
            self,
            "MatchingRunPublished",
            description="A matching run's manifest was written: load the run",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [foundation.curated.name]},
                    # A prefix and a suffix on one field would be alternatives, not both required.
                    "object": {"key": [{"wildcard": f"{MDM_PREFIX}runs/run_id=*{loader_constants.MANIFEST_SUFFIX}"}]},
                },
            ),
            targets=[
                # Delivery is an asynchronous invocation: Lambda queues it (even while the one
                # reserved instance is busy), retries a failed load and then keeps the event in
                # the function's dead-letter queue.
                targets.LambdaFunction(self.loader.alias, retry_attempts=4, max_event_age=Duration.hours(6))
            ],
        )

    def _customer_tables(self, foundation: FoundationStack) -> None:
        """The golden customers and the identity map: written by the loader, read by every real-time service.

        Customer table: partition `customer_id`, sort `record` (PROFILE, STATE, ERASURE), so one
        customer's profile and live state are read together. Identity map: partition `identifier`
        (`email#...`, `phone#...`, `source#crm:123`), GSI `by-customer` to find every link of a customer.

        From stage 5 the customer table has a stream (new and old images) that the state fan-out
        publishes to every channel. Turning a stream on is an in-place update of the table
        (CloudFormation: StreamSpecification, "Update requires: No interruption"), so the upgrade
        from stage 4 keeps the table and its data; tests/infra/test_seamless_stacks.py proves it.
        """
        seamless = self.config.maturity >= Stage.SEAMLESS
        self.customer_table = PlatformTable(
            self,
            "Customers",
            config=self.config,
            encryption_key=foundation.key,
            table_name=self.config.resource_name(constants.CUSTOMER_TABLE_SUFFIX),
            partition_key=constants.CUSTOMER_PARTITION_KEY,
            sort_key=constants.CUSTOMER_SORT_KEY,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if seamless else None,
        ).table
        self.identity_table = PlatformTable(
            self,
            "IdentityMap",
            config=self.config,
            encryption_key=foundation.key,
            table_name=self.config.resource_name(constants.IDENTITY_TABLE_SUFFIX),
            partition_key=constants.IDENTITY_PARTITION_KEY,
        ).table
        self.identity_table.add_global_secondary_index(
            index_name=constants.IDENTITY_BY_CUSTOMER_INDEX,
            partition_key=dynamodb.Attribute(
                name=constants.IDENTITY_CUSTOMER_ATTRIBUTE, type=dynamodb.AttributeType.STRING
            ),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )

    def _catalog_access(self, foundation: FoundationStack) -> None:
        """The matching jobs read the lake database's customer tables, nothing else in the catalog."""
        database = foundation.glue_database_name
        self.glue_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
                resources=[
                    self.format_arn(service="glue", resource="catalog"),
                    self.format_arn(service="glue", resource="database", resource_name=database),
                    self.format_arn(service="glue", resource="table", resource_name=f"{database}/{SOURCE_TABLE}"),
                    self.format_arn(service="glue", resource="table", resource_name=f"{database}/{PREPARED_TABLE}"),
                ],
            )
        )

    def _code(self, construct_id: str, path: Path) -> s3_assets.Asset:
        package = path.is_dir()
        asset = s3_assets.Asset(
            self,
            construct_id,
            path=str(path),
            exclude=_PACKAGE_ONLY if package else None,
            ignore_mode=IgnoreMode.GIT if package else None,
        )
        # The exact object only: no bucket-wide read on the CDK staging bucket.
        self.glue_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[asset.bucket.arn_for_objects(asset.s3_object_key)])
        )
        return asset

    def _splink_job(self, foundation: FoundationStack) -> glue.CfnJob:
        mdm = self.config.environment.mdm
        similarity_jar = self._code("SimilarityUdfJar", SIMILARITY_JAR)
        return self._current_glue_job(
            foundation,
            "SplinkMatching",
            name=self.config.resource_name("customer-matching"),
            description="Splink customer matching and survivorship (engine 2) on current Glue",
            script=GLUE_JOBS / "splink_job.py",
            arguments={
                "--input_path": foundation.raw.url(SOURCE_PREFIX),
                "--threshold": str(mdm.match_threshold),
                "--extra-jars": similarity_jar.s3_object_url,
            },
        )

    def _find_matches_publication_job(self, foundation: FoundationStack) -> glue.CfnJob:
        """Publishes what FindMatches matched: its clusters through the survivorship every engine shares."""
        job = self._current_glue_job(
            foundation,
            "FindMatchesPublication",
            name=self.config.resource_name("customer-findmatches-publish"),
            description="Golden records, identity links, merges and the manifest of the latest FindMatches run",
            script=GLUE_JOBS / "findmatches_publish_job.py",
            arguments={"--matched_path": foundation.curated.url(FINDMATCHES_OUTPUT_PREFIX)},
        )
        glue.CfnTrigger(
            self,
            "PublishFindMatchesRun",
            name=self.config.resource_name("customer-findmatches-publish-trigger"),
            description="Publishes each FindMatches run that succeeded",
            type="CONDITIONAL",
            start_on_creation=True,
            predicate=glue.CfnTrigger.PredicateProperty(
                conditions=[
                    glue.CfnTrigger.ConditionProperty(
                        job_name=self.matching_job.name, logical_operator="EQUALS", state="SUCCEEDED"
                    )
                ]
            ),
            actions=[glue.CfnTrigger.ActionProperty(job_name=job.name)],
        ).node.add_dependency(self.matching_job, job)
        return job

    def _current_glue_job(
        self,
        foundation: FoundationStack,
        construct_id: str,
        *,
        name: str,
        description: str,
        script: Path,
        arguments: dict[str, str],
    ) -> glue.CfnJob:
        """A Glue 5.0 Spark job over the glue_jobs package, with the Python modules the Spark tests ran."""
        sizing = self.config.environment.mdm.splink
        package = self._code(f"{construct_id}Package", REPOSITORY)
        return glue.CfnJob(
            self,
            construct_id,
            name=name,
            description=description,
            role=self.glue_role.role_arn,
            glue_version=SPLINK_GLUE_VERSION,
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl",
                python_version="3",
                script_location=self._code(f"{construct_id}Script", script).s3_object_url,
            ),
            worker_type=sizing.worker_type,
            number_of_workers=sizing.number_of_workers,
            timeout=sizing.timeout_minutes,
            max_retries=0,
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
            security_configuration=self.security_configuration.ref,
            default_arguments={
                "--output_path": foundation.curated.url(MDM_PREFIX),
                "--TempDir": foundation.curated.url(MATCHING_TEMP_PREFIX),
                "--extra-py-files": package.s3_object_url,
                "--additional-python-modules": ",".join(glue_requirements(SPLINK_REQUIREMENTS)),
                "--enable-metrics": "true",
                "--enable-continuous-cloudwatch-log": "true",
                "--job-bookmark-option": "job-bookmark-disable",
                **arguments,
            },
        )

    def _find_matches_job(self, foundation: FoundationStack) -> glue.CfnJob:
        settings = self.config.environment.mdm.findmatches
        script = self._code("FindMatchesJobScript", GLUE_JOBS / "findmatches_job.py")
        self.glue_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["glue:GetMLTransform", "glue:GetMLTaskRun", "glue:GetMLTaskRuns"],
                resources=[
                    self.format_arn(service="glue", resource="mlTransform", resource_name=self.ml_transform.ref)
                ],
            )
        )
        return glue.CfnJob(
            self,
            "FindMatchesMatching",
            name=self.config.resource_name("customer-findmatches"),
            description="AWS Glue FindMatches over the prepared customer records (engine 1, Glue 2.0)",
            role=self.glue_role.role_arn,
            glue_version="2.0",
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl", python_version="3", script_location=script.s3_object_url
            ),
            worker_type=settings.worker_type,
            number_of_workers=settings.number_of_workers,
            timeout=settings.timeout_minutes,
            max_retries=0,
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
            security_configuration=self.security_configuration.ref,
            default_arguments={
                "--database": foundation.glue_database_name,
                "--source_table": SOURCE_TABLE,
                "--transform_id": self.ml_transform.ref,
                "--prepared_path": foundation.curated.url(PREPARED_PREFIX),
                "--output_path": foundation.curated.url(FINDMATCHES_OUTPUT_PREFIX),
                "--enable-metrics": "true",
                "--enable-continuous-cloudwatch-log": "true",
            },
        )

    def _schedule_and_alarm(self, foundation: FoundationStack, watched_jobs: Sequence[glue.CfnJob]) -> None:
        # A failed publication leaves the run unloaded just as a failed match does.
        watched = [job.name or "" for job in watched_jobs]
        if self.pipeline is None:  # the Entity Resolution pipeline has its own schedule
            glue.CfnTrigger(
                self,
                "MatchingSchedule",
                name=self.config.resource_name("customer-matching-schedule"),
                description="Runs customer matching on the schedule in config (mdm.schedule)",
                type="SCHEDULED",
                schedule=self.config.environment.mdm.schedule,
                start_on_creation=True,
                actions=[glue.CfnTrigger.ActionProperty(job_name=self.matching_job.name or "")],
            ).node.add_dependency(self.matching_job)
        alerts = foundation.alert_topic_for(self)
        events.Rule(
            self,
            "MatchingFailed",
            description="Customer matching failed, timed out or was stopped",
            event_pattern=events.EventPattern(
                source=["aws.glue"],
                detail_type=["Glue Job State Change"],
                detail={"jobName": watched, "state": ["FAILED", "TIMEOUT", "STOPPED"]},
            ),
            targets=[
                targets.SnsTopic(
                    alerts,
                    message=events.RuleTargetInput.from_text(
                        f"Customer matching job {events.EventField.from_path('$.detail.jobName')} ended {events.EventField.from_path('$.detail.state')}: "
                        f"{events.EventField.from_path('$.detail.message')} (run {events.EventField.from_path('$.detail.jobRunId')})"
                    ),
                )
            ],
        )

    def _source_table(self, foundation: FoundationStack) -> glue.CfnTable:
        return glue.CfnTable(
            self,
            "SourceCustomers",
            catalog_id=self.account,
            database_name=foundation.glue_database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=SOURCE_TABLE,
                description="Customer records from every source system (CRM, e-commerce, store POS, loyalty), as CSV",
                table_type="EXTERNAL_TABLE",
                parameters={"classification": "csv", "skip.header.line.count": "1"},
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=foundation.raw.url(SOURCE_PREFIX),
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.apache.hadoop.hive.serde2.OpenCSVSerde",
                        parameters={"separatorChar": ","},
                    ),
                    columns=_string_columns(SOURCE_COLUMNS),
                ),
            ),
        )

    def _prepared_table(self, foundation: FoundationStack, *, engine: str = "FindMatches") -> glue.CfnTable:
        """FindMatches and Entity Resolution need one unique-key column: a job first writes the source
        records with `source_key` (source_system:source_id) here, as Parquet."""
        return glue.CfnTable(
            self,
            "PreparedCustomers",
            catalog_id=self.account,
            database_name=foundation.glue_database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=PREPARED_TABLE,
                description=f"Source customer records keyed by source_key, the input of {engine}",
                table_type="EXTERNAL_TABLE",
                parameters={"classification": "parquet"},
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=foundation.curated.url(PREPARED_PREFIX),
                    input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                    ),
                    columns=_string_columns((PRIMARY_KEY, *SOURCE_COLUMNS)),
                ),
            ),
        )

    def _find_matches_transform(self, foundation: FoundationStack) -> None:
        settings = self.config.environment.mdm.findmatches
        prepared = self._prepared_table(foundation)
        self.ml_transform = glue.CfnMLTransform(
            self,
            "FindMatches",
            name=self.config.resource_name("customer-matches"),
            description="FindMatches over the source customer records (labelled by data stewards)",
            role=self.glue_role.role_arn,
            glue_version="2.0",
            worker_type=settings.worker_type,
            number_of_workers=settings.number_of_workers,
            timeout=settings.timeout_minutes,
            max_retries=0,
            input_record_tables=glue.CfnMLTransform.InputRecordTablesProperty(
                glue_tables=[
                    glue.CfnMLTransform.GlueTablesProperty(
                        database_name=foundation.glue_database_name, table_name=PREPARED_TABLE
                    )
                ]
            ),
            transform_parameters=glue.CfnMLTransform.TransformParametersProperty(
                transform_type="FIND_MATCHES",
                find_matches_parameters=glue.CfnMLTransform.FindMatchesParametersProperty(
                    primary_key_column_name=PRIMARY_KEY,
                    precision_recall_tradeoff=settings.precision_recall_tradeoff,
                    accuracy_cost_tradeoff=settings.accuracy_cost_tradeoff,
                    enforce_provided_labels=settings.enforce_provided_labels,
                ),
            ),
            transform_encryption=glue.CfnMLTransform.TransformEncryptionProperty(
                ml_user_data_encryption=glue.CfnMLTransform.MLUserDataEncryptionProperty(
                    ml_user_data_encryption_mode="SSE-KMS", kms_key_id=foundation.key.key_arn
                ),
                task_run_security_configuration_name=None,
            ),
        )
        self.ml_transform.node.add_dependency(prepared)

    # --- AWS Entity Resolution -------------------------------------------------------------------------

    def _entity_resolution(self, foundation: FoundationStack) -> glue.CfnJob:
        """The managed engine: schema mapping, matching workflow, its role, and the pipeline that runs it.

        Returns the publication job (the one Glue job the pipeline starts and does not follow).
        """
        settings = self.config.environment.mdm.entity_resolution
        prepared = self._prepared_table(foundation, engine="Entity Resolution")
        self.matching_job = self._current_glue_job(
            foundation,
            "EntityResolutionInput",
            name=self.config.resource_name("customer-er-prepare"),
            description="Source customer records keyed by source_key, written for Entity Resolution to match",
            script=GLUE_JOBS / "entity_resolution_prepare_job.py",
            arguments={
                "--input_path": foundation.raw.url(SOURCE_PREFIX),
                "--prepared_path": foundation.curated.url(PREPARED_PREFIX),
            },
        )
        self.workflow_name = self.config.resource_name(pipeline_constants.WORKFLOW_SUFFIX)
        publication_arguments = {
            "--er_output_path": foundation.curated.url(ER_OUTPUT_PREFIX),
            "--workflow_name": self.workflow_name,
        }
        if settings.matching == "ml":
            publication_arguments["--min_confidence"] = str(settings.min_confidence)
        publication = self._current_glue_job(
            foundation,
            "EntityResolutionPublication",
            name=self.config.resource_name("customer-er-publish"),
            description="Golden records, identity links, merges and the manifest of an Entity Resolution job",
            script=GLUE_JOBS / "entity_resolution_publish_job.py",
            arguments=publication_arguments,
        )
        self.schema_mapping = entityresolution.CfnSchemaMapping(
            self,
            "CustomerSchemaMapping",
            schema_name=self.config.resource_name("customers"),
            description="The customer source schema, keyed by source_key (source_system:source_id)",
            mapped_input_fields=[
                entityresolution.CfnSchemaMapping.SchemaInputAttributeProperty(
                    field_name=field.field_name, type=field.type, match_key=field.match_key, group_name=field.group_name
                )
                for field in er_schema.MAPPED_FIELDS
            ],
        )
        role = self._entity_resolution_role(foundation)
        self.matching_workflow = entityresolution.CfnMatchingWorkflow(
            self,
            "CustomerMatchingWorkflow",
            workflow_name=self.workflow_name,
            description=f"Matches the prepared customer records ({settings.matching}); output under {ER_OUTPUT_PREFIX}",
            role_arn=role.role_arn,
            input_source_config=[
                entityresolution.CfnMatchingWorkflow.InputSourceProperty(
                    input_source_arn=self._table_arn(foundation, PREPARED_TABLE),
                    schema_arn=self.schema_mapping.attr_schema_arn,
                    apply_normalization=True,
                )
            ],
            output_source_config=[
                entityresolution.CfnMatchingWorkflow.OutputSourceProperty(
                    output_s3_path=foundation.curated.url(ER_OUTPUT_PREFIX),
                    kms_arn=foundation.key.key_arn,
                    # As captured: survivorship and the identity map normalise with the platform's own rules.
                    apply_normalization=False,
                    output=[
                        entityresolution.CfnMatchingWorkflow.OutputAttributeProperty(name=column, hashed=False)
                        for column in er_schema.OUTPUT_COLUMNS
                    ],
                )
            ],
            resolution_techniques=self._resolution_techniques(settings.matching),
        )
        # The service checks the table and its access to it when the workflow is created.
        self.matching_workflow.node.add_dependency(prepared, role.node.find_child("DefaultPolicy"))
        self._entity_resolution_pipeline(foundation, publication)
        return publication

    @staticmethod
    def _resolution_techniques(matching: str) -> entityresolution.CfnMatchingWorkflow.ResolutionTechniquesProperty:
        if matching == "ml":
            return entityresolution.CfnMatchingWorkflow.ResolutionTechniquesProperty(resolution_type="ML_MATCHING")
        return entityresolution.CfnMatchingWorkflow.ResolutionTechniquesProperty(
            resolution_type="RULE_MATCHING",
            rule_based_properties=entityresolution.CfnMatchingWorkflow.RuleBasedPropertiesProperty(
                # One value of a key per record (the customer schema has one e-mail, one phone, ...).
                attribute_matching_model="ONE_TO_ONE",
                match_purpose="IDENTIFIER_GENERATION",
                rules=[
                    entityresolution.CfnMatchingWorkflow.RuleProperty(rule_name=name, matching_keys=list(keys))
                    for name, keys in er_schema.RULES
                ],
            ),
        )

    def _table_arn(self, foundation: FoundationStack, table: str) -> str:
        return self.format_arn(
            service="glue", resource="table", resource_name=f"{foundation.glue_database_name}/{table}"
        )

    def _entity_resolution_role(self, foundation: FoundationStack) -> iam.Role:
        """The workflow job role: read the prepared table, write the output, with the platform key, nothing else.

        Trusted by Entity Resolution acting for this workflow of this account only (the confused deputy). The
        key policy lets the service use the platform key for this account's matching workflows (the output is
        encrypted with it), under the source conditions the foundation's key adds for the service.
        """
        workflow_arn = self.format_arn(
            service="entityresolution", resource="matchingworkflow", resource_name=self.workflow_name
        )
        role = iam.Role(
            self,
            "EntityResolutionRole",
            assumed_by=iam.ServicePrincipal(
                ER_SERVICE,
                conditions={
                    "StringEquals": {"aws:SourceAccount": self.account},
                    "ArnLike": {"aws:SourceArn": workflow_arn},
                },
            ),
            description="Entity Resolution matching workflow: reads the prepared customers, writes its matches",
        )
        database = foundation.glue_database_name
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=ER_CATALOG_ACTIONS,
                resources=[
                    self.format_arn(service="glue", resource="catalog"),
                    self.format_arn(service="glue", resource="database", resource_name=database),
                    self._table_arn(foundation, PREPARED_TABLE),
                ],
            )
        )
        grant_prefix_read(role, foundation.curated, PREPARED_PREFIX, why="the prepared customer records it matches")
        grant_prefix_write(role, foundation.curated, ER_OUTPUT_PREFIX, why="each matching job's output folder")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[foundation.curated.arn],
                conditions={"StringLike": {"s3:prefix": [f"{ER_OUTPUT_PREFIX}*"]}},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:GetBucketLocation"], resources=[foundation.curated.arn])
        )
        acknowledge_grant_policy(role)
        foundation.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EntityResolutionMatchingOutput",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                principals=[iam.ServicePrincipal(ER_SERVICE)],
                resources=["*"],
            )
        )
        return role

    def _entity_resolution_pipeline(self, foundation: FoundationStack, publication: glue.CfnJob) -> None:
        """The schedule starts a state machine that runs one matching job end to end (see matching_pipeline)."""
        settings = self.config.environment.mdm.entity_resolution
        alerts = foundation.alert_topic_for(self)
        pipeline_name = self.config.resource_name(pipeline_constants.PIPELINE_SUFFIX)
        # Known before the state machine exists, so its step function can be told it without a cycle.
        state_machine_arn = self.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=pipeline_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        steps = self._pipeline_steps(foundation, alerts, state_machine_arn, publication)
        definition = self._pipeline_definition(alerts, steps)
        logs = encrypted_log_group(self, "MatchingPipelineLogs", config=self.config, encryption_key=foundation.key)
        self.pipeline = sfn.StateMachine(
            self,
            "MatchingPipeline",
            state_machine_name=pipeline_name,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=Duration.hours(settings.timeout_hours),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=logs, level=sfn.LogLevel.ALL, include_execution_data=False),
            encryption_configuration=sfn.CustomerManagedEncryptionConfiguration(foundation.key),
        )
        # The alert topic is encrypted with the platform key: SNS uses it on the pipeline's behalf, and only SNS.
        self.pipeline.add_to_role_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[foundation.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"sns.{self.config.region}.amazonaws.com"}},
            )
        )
        acknowledge_grant_policy(self.pipeline.role)
        acknowledge(
            self.pipeline.role,
            (
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray tracing and CloudWatch Logs delivery have no resource-level permissions.",
            ),
        )
        self._pipeline_schedule(self.pipeline)
        alarm_at_or_above(
            self,
            alerts,
            (
                Watch(construct_id, metric(period=Duration.minutes(5)), 1, f"Customer matching pipeline {what}")
                for construct_id, metric, what in (
                    ("MatchingPipelineFailed", self.pipeline.metric_failed, "failed"),
                    ("MatchingPipelineTimedOut", self.pipeline.metric_timed_out, "timed out"),
                    ("MatchingPipelineAborted", self.pipeline.metric_aborted, "was aborted"),
                )
            ),
        )

    def _pipeline_steps(
        self, foundation: FoundationStack, alerts: sns.ITopic, state_machine_arn: str, publication: glue.CfnJob
    ) -> PlatformFunction:
        settings = self.config.environment.mdm.entity_resolution
        steps = PlatformFunction(
            self,
            "MatchingPipelineSteps",
            config=self.config,
            handler=pipeline_constants.MATCHING_PIPELINE_HANDLER,
            description="Customer matching pipeline: claims the run, starts and follows the Entity Resolution job",
            service=pipeline_constants.MATCHING_PIPELINE_SERVICE,
            encryption_key=foundation.key,
            alert_topic=alerts,
            timeout_seconds=60,
            environment={
                pipeline_constants.ENV_WORKFLOW: self.workflow_name,
                pipeline_constants.ENV_STATE_MACHINE_ARN: state_machine_arn,
                pipeline_constants.ENV_PUBLICATION_JOB: publication.name or "",
                pipeline_constants.ENV_ALERT_TOPIC_ARN: alerts.topic_arn,
                pipeline_constants.ENV_OUTPUT_PATH: foundation.curated.url(ER_OUTPUT_PREFIX),
                pipeline_constants.ENV_FIRST_POLL_SECONDS: str(settings.first_poll_seconds),
                pipeline_constants.ENV_MAX_POLL_SECONDS: str(settings.max_poll_seconds),
            },
        )
        workflow_arn = self.format_arn(
            service="entityresolution", resource="matchingworkflow", resource_name=self.workflow_name
        )
        publication_arn = self.format_arn(service="glue", resource="job", resource_name=publication.name)
        for actions, resources in (
            (
                [
                    "entityresolution:ListMatchingJobs",
                    "entityresolution:StartMatchingJob",
                    "entityresolution:GetMatchingJob",
                ],
                [workflow_arn],
            ),
            (["states:ListExecutions"], [state_machine_arn]),
            (["glue:StartJobRun"], [publication_arn]),
            (["sns:Publish"], [alerts.topic_arn]),
        ):
            steps.role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=resources))
        steps.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[foundation.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"sns.{self.config.region}.amazonaws.com"}},
            )
        )
        return steps

    def _pipeline_definition(self, alerts: sns.ITopic, steps: PlatformFunction) -> sfn.IChainable:
        failed = alert_then_fail(
            self,
            topic=alerts,
            subject="Customer matching pipeline failed",
            message="Customer matching pipeline run {} failed with {}: {}",
            fail_id="PipelineFailed",
            error="MatchingPipelineFailed",
        )

        def step(construct_id: str, payload: dict[str, object], result_path: str) -> tasks.LambdaInvoke:
            task = tasks.LambdaInvoke(
                self,
                construct_id,
                lambda_function=steps.alias,
                payload=sfn.TaskInput.from_object(payload),
                result_selector={"value": sfn.JsonPath.object_at("$.Payload")},
                result_path=result_path,
            )
            return guard(task, PIPELINE_TRANSIENT, failed)

        claim = step(
            "ClaimTheRun",
            {
                "step": pipeline_constants.CLAIM,
                "execution": sfn.JsonPath.execution_id,
                "started_at": sfn.JsonPath.execution_start_time,
            },
            "$.claim",
        )
        prepare = tasks.GlueStartJobRun(
            self,
            "PrepareInput",
            glue_job_name=self.matching_job.name or "",
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            result_path=sfn.JsonPath.DISCARD,
        )
        guard(prepare, GLUE_TRANSIENT, failed)
        start = step("StartMatchingJob", {"step": pipeline_constants.START}, "$.job")
        wait = sfn.Wait(self, "WaitForMatchingJob", time=sfn.WaitTime.seconds_path("$.job.value.wait_seconds"))
        poll = step(
            "LookAtMatchingJob",
            {
                "step": pipeline_constants.POLL,
                "job_id": sfn.JsonPath.string_at("$.job.value.job_id"),
                "run_id": sfn.JsonPath.string_at("$.job.value.run_id"),
                "attempt": sfn.JsonPath.number_at("$.job.value.attempt"),
            },
            "$.job",
        )
        # Another run in progress (or a job started by hand): nothing to do tonight, and nothing is wrong.
        nothing_to_do = sfn.Succeed(self, "AnotherRunInProgress")
        job_failed = sfn.Fail(self, "MatchingJobFailed", error="MatchingJobFailed", cause_path="$.job.value.error")
        wait.next(poll).next(
            sfn.Choice(self, "MatchingJobStatus")
            .when(
                sfn.Condition.or_(
                    sfn.Condition.string_equals("$.job.value.status", "QUEUED"),
                    sfn.Condition.string_equals("$.job.value.status", "RUNNING"),
                ),
                wait,
            )
            .when(
                sfn.Condition.string_equals("$.job.value.status", "SUCCEEDED"), sfn.Succeed(self, "PublicationStarted")
            )
            .otherwise(job_failed)  # the step alerted the platform team with the service's reason
        )
        start.next(
            sfn.Choice(self, "JobStarted")
            .when(sfn.Condition.boolean_equals("$.job.value.started", True), wait)
            .otherwise(nothing_to_do)
        )
        prepare.next(start)
        return claim.next(
            sfn.Choice(self, "RunClaimed")
            .when(sfn.Condition.boolean_equals("$.claim.value.proceed", True), prepare)
            .otherwise(nothing_to_do)
        )

    def _pipeline_schedule(self, pipeline: sfn.StateMachine) -> None:
        role = iam.Role(
            self,
            "MatchingScheduleRole",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
            description="Starts the customer matching pipeline on its schedule",
        )
        pipeline.grant_start_execution(role)
        acknowledge_grant_policy(role)
        scheduler.CfnSchedule(
            self,
            "MatchingSchedule",
            name=self.config.resource_name("customer-matching-schedule"),
            description="Runs customer matching on the schedule in config (mdm.schedule)",
            schedule_expression=self.config.environment.mdm.schedule,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(arn=pipeline.state_machine_arn, role_arn=role.role_arn),
        )


def glue_requirements(path: Path) -> list[str]:
    """The pinned `name==version` lines of a requirements file (comments and blank lines dropped)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _string_columns(names: tuple[str, ...]) -> list[glue.CfnTable.ColumnProperty]:
    # Every column is a string on disk: parsing is the normaliser's job, so a bad value never stops a load.
    return [glue.CfnTable.ColumnProperty(name=name, type="string") for name in names]
