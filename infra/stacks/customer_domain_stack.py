"""Stage 2 customer domain (MDM): one golden customer per real person.

Source customer records land in the raw bucket under `customers/` (a Glue table
describes them); a scheduled matching job de-duplicates them into golden records
and identity links in the curated bucket; a loader publishes the identity map
that the real-time services use to resolve any identifier to a golden id.

The matching engine is chosen by `mdm.engine`:
- `splink` (default): the project's Splink model on current Glue (Spark);
- `findmatches`: AWS Glue FindMatches, which only runs on Glue 2.0 (end of life
  2026-04-01): synthesis warns when it is selected.
"""

from __future__ import annotations

from aws_cdk import Annotations
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam

from glue_jobs.customer_schema import SOURCE_COLUMNS
from infra.constructs.compliance import acknowledge_grant_policy
from infra.constructs.lake_access import grant_prefix_read, grant_prefix_read_write
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack

SOURCE_PREFIX = "customers/"
SOURCE_TABLE = "source_customers"
MDM_PREFIX = "mdm/"
PREPARED_PREFIX = f"{MDM_PREFIX}prepared/"
PREPARED_TABLE = "prepared_customers"
PRIMARY_KEY = "source_key"
GLUE_2_EOL_WARNING = (
    "mdm.engine is 'findmatches': AWS Glue FindMatches runs only on Glue 2.0, which reached end of life on "
    "2026-04-01 and may no longer accept new jobs. Set mdm.engine to 'splink' in cdk.json to deploy the "
    "same match-then-survive contract on current Glue."
)


class CustomerDomainStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        mdm = self.config.environment.mdm
        self.source_table = self._source_table(foundation)

        self.glue_role = iam.Role(
            self,
            "MatchingRole",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description="Customer matching jobs: read source records, write golden records and links",
        )
        grant_prefix_read(self.glue_role, foundation.raw, SOURCE_PREFIX, why="the source customer records")
        grant_prefix_read_write(
            self.glue_role, foundation.curated, MDM_PREFIX, why="prepared records, golden records and identity links"
        )
        acknowledge_grant_policy(self.glue_role)

        if mdm.engine == "findmatches":
            Annotations.of(self).add_warning_v2("omni:mdm:glue2-end-of-life", GLUE_2_EOL_WARNING)
            self._find_matches_transform(foundation)

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

    def _prepared_table(self, foundation: FoundationStack) -> glue.CfnTable:
        """FindMatches needs one unique primary-key column: the job first writes the source
        records with `source_key` (source_system:source_id) here, as Parquet."""
        return glue.CfnTable(
            self,
            "PreparedCustomers",
            catalog_id=self.account,
            database_name=foundation.glue_database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=PREPARED_TABLE,
                description="Source customer records keyed by source_key, the input of FindMatches",
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
        self.ml_transform.add_dependency(prepared)


def _string_columns(names: tuple[str, ...]) -> list[glue.CfnTable.ColumnProperty]:
    # Every column is a string on disk: parsing is the normaliser's job, so a bad value never stops a load.
    return [glue.CfnTable.ColumnProperty(name=name, type="string") for name in names]
