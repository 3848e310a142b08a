"""The opt-in delivery pipeline: one self-mutating CDK Pipelines CodePipeline that promotes the platform
through the environments in order (dev, then prod after a person approves), each at its configured maturity.

The synth step runs the project's tests (cdk-nag runs inside every synthesis), synthesizes this app and
runs cfn-lint on every template it wrote. Before each environment's stacks deploy, `omni plan` compares the
environment's deployed stacks with what is about to deploy and stops the pipeline on an unsafe verdict
(exit 1) or an error (exit 2). A stage is promoted by a reviewed change of the environment's `maturity` in
cdk.json: the merged change re-synthesizes the pipeline (self-mutation) and flows through it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import App, Aws, DefaultStackSynthesizer, Duration, Environment, Stack, Stage, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import (
    ENVIRONMENTS_KEY,
    PIPELINE_KEY,
    PROJECT_KEY,
    ConfigError,
    PipelineConfig,
    PlatformConfig,
    config_for,
    load_pipeline_config,
    read_cdk_json_context,
)
from infra.constructs.compliance import enable_compliance_checks
from infra.constructs.secure_bucket import AccessLogBucket, DataBucket
from infra.pipeline_acknowledgements import acknowledge_pipeline_findings
from infra.platform_app import build_platform
from infra.stacks.platform_stack import PlatformStack

# The CodeBuild image every step runs on, and the runtimes the project asks of it.
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
RUNTIMES = {"python": "3.12", "nodejs": "22"}
PIPELINE_APP = ".venv/bin/python pipeline_app.py"
# Quiet, offline-capable CDK CLI calls (no notices, no version check), as the Makefile makes them.
CDK_CLI = "npx cdk --no-notices --no-version-reporting"


class PlatformDeployment(Stage):
    """One environment's platform stacks, at its configured maturity, as a stage of the pipeline.

    The stacks are built exactly as `cdk deploy` builds them from app.py, with the same stack names, so
    the pipeline takes over stacks deployed by hand."""

    def __init__(self, scope: Construct, config: PlatformConfig, *, default_account: str) -> None:
        # An environment without an account deploys into the pipeline's: its stacks inherit the stage's account.
        account = config.account or default_account
        super().__init__(scope, config.env_name, env=Environment(account=account, region=config.region))
        self.config = config
        self.stacks: dict[str, PlatformStack] = build_platform(self, config)


class DeliveryPipelineStack(Stack):
    """The pipeline, its artifact store and one wave per environment."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project: str,
        pipeline: PipelineConfig,
        environments: Sequence[PlatformConfig],
    ) -> None:
        region = pipeline.region or environments[0].region
        super().__init__(
            scope,
            construct_id,
            stack_name=construct_id,
            description=f"{project}: delivery pipeline ({' -> '.join(e.env_name for e in environments)})",
            env=Environment(account=pipeline.account, region=region),
            termination_protection=True,
        )
        self.settings = pipeline
        self.source = self._source(pipeline)
        regions = sorted({environment.region for environment in environments})
        self.synth_step = pipelines.ShellStep(
            "Synth",
            input=self.source,
            commands=[
                "make install",  # .venv, the pinned CDK CLI (node_modules) and Java for the Spark tests
                # Every test and linter; each synthesis inside them runs the four cdk-nag packs.
                "make test",
                f"{CDK_CLI} synth --quiet --app '{PIPELINE_APP}' --output cdk.out",
                # Every template the pipeline deploys (the pipeline's own and each environment's stage).
                f".venv/bin/cfn-lint --non-zero-exit-code error --regions {' '.join(regions)} -- 'cdk.out/**/*.template.json'",
            ],
            primary_output_directory="cdk.out",
        )
        self.artifact_key = kms.Key(
            self,
            "ArtifactKey",
            description=f"{project} delivery pipeline artifacts",
            enable_key_rotation=True,
        )
        self.artifact_bucket = DataBucket(
            self,
            "Artifacts",
            encryption_key=self.artifact_key,
            access_logs=AccessLogBucket(
                self, "ArtifactAccessLogs", retain=True, expire_after=Duration.days(400)
            ).bucket,
            retain=True,
        ).bucket
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=f"{project}-delivery",
            synth=self.synth_step,
            artifact_bucket=self.artifact_bucket,
            cross_account_keys=True,
            self_mutation=True,
            docker_enabled_for_synth=False,
            # One project publishes every file asset (the functions' bundles), rather than one project each.
            publish_assets_in_parallel=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE, privileged=False),
                partial_build_spec=codebuild.BuildSpec.from_object(
                    {"phases": {"install": {"runtime-versions": RUNTIMES}}}
                ),
            ),
            synth_code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(compute_type=codebuild.ComputeType.LARGE),
                timeout=Duration.minutes(90),
            ),
        )
        self.deployments: dict[str, PlatformDeployment] = {}
        self.plan_steps: dict[str, pipelines.CodeBuildStep] = {}
        for config in environments:
            self._add_environment(config, approve=config.env_name in pipeline.approval_before)
        # Built now rather than at synthesis, so the projects and roles it generates exist to be checked.
        self.pipeline.build_pipeline()
        acknowledge_pipeline_findings(self.pipeline)
        # cfn-lint's E3703 checks each deploy action's RoleArn as a literal ARN and reports the Fn::Join CDK
        # writes for it (arn:${AWS::Partition}:iam::...:role/cdk-...-deploy-role-...) as an error: it is a
        # valid ARN, so the check is off for the pipeline resource only.
        cfn_pipeline = self.pipeline.pipeline.node.default_child
        if not isinstance(cfn_pipeline, codepipeline.CfnPipeline):
            raise TypeError(f"unexpected L1 resource {cfn_pipeline!r}")
        cfn_pipeline.add_metadata("cfn-lint", {"config": {"ignore_checks": ["E3703"]}})

    def _source(self, pipeline: PipelineConfig) -> pipelines.CodePipelineSource:
        source = pipeline.source
        if source.kind == "s3":
            bucket = s3.Bucket.from_bucket_name(self, "SourceBucket", source.bucket or "")
            # EVENTS: the pipeline starts when the object changes (S3 via CloudTrail), rather than polling.
            return pipelines.CodePipelineSource.s3(bucket, source.object_key, trigger=actions.S3Trigger.EVENTS)
        return pipelines.CodePipelineSource.connection(
            source.repository or "", source.branch, connection_arn=source.connection_arn or "", trigger_on_push=True
        )

    def _add_environment(self, config: PlatformConfig, *, approve: bool) -> None:
        deployment = PlatformDeployment(self, config, default_account=self.account)
        plan = self._plan_step(config)
        pre: list[pipelines.Step] = [plan]
        if approve:
            approval = pipelines.ManualApprovalStep(
                f"Approve-{config.env_name}",
                comment=(
                    f"Deploy {config.project} to {config.env_name} at stage {config.maturity.label}: "
                    f"read the Plan-{config.env_name} step's output first."
                ),
            )
            approval.add_step_dependency(plan)
            pre.append(approval)
        wave = self.pipeline.add_wave(config.env_name)
        wave.add_stage(deployment, pre=pre)
        self.deployments[config.env_name] = deployment
        self.plan_steps[config.env_name] = plan

    def _plan_step(self, config: PlatformConfig) -> pipelines.CodeBuildStep:
        """`omni plan` against the environment's deployed stacks, through the target account's CDK lookup role
        (read-only, created by `cdk bootstrap`, trusted by the pipeline's account with `--trust`)."""
        account = config.account or self.account
        qualifier = self.node.try_get_context("@aws-cdk/core:bootstrapQualifier") or (
            DefaultStackSynthesizer.DEFAULT_QUALIFIER
        )
        lookup_role = f"arn:{Aws.PARTITION}:iam::{account}:role/cdk-{qualifier}-lookup-role-{account}-{config.region}"
        return pipelines.CodeBuildStep(
            f"Plan-{config.env_name}",
            input=self.source,
            install_commands=["python -m venv .venv", ".venv/bin/pip install --quiet -e '.[dev]'"],
            env={"TARGET_ROLE_ARN": lookup_role, "AWS_REGION": config.region},
            commands=[
                'aws configure set profile.target.role_arn "$TARGET_ROLE_ARN"',
                "aws configure set profile.target.credential_source EcsContainer",
                # Exit 1 (unsafe) or 2 (error) fails the step, and the stage's deploy does not start.
                f"AWS_PROFILE=target .venv/bin/omni plan --env {config.env_name} --to-stage {config.maturity.value}",
            ],
            role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[lookup_role])],
        )


def create_pipeline_app(*, outdir: str | None = None, context: Mapping[str, Any] | None = None) -> App:
    """The pipeline app as `cdk synth --app 'python pipeline_app.py'` runs it: cdk.json's context (and `-c`
    flags), one environment config per environment the pipeline deploys, checked by cdk-nag."""
    app = App(
        outdir=outdir or os.environ.get("CDK_OUTDIR", "cdk.out"),
        context=dict(read_cdk_json_context() if context is None else context),
    )
    get_context = app.node.try_get_context
    settings = load_pipeline_config(get_context)
    if not settings.enabled:
        raise ConfigError(
            f"{PIPELINE_KEY}.enabled is false: give the pipeline's account and source in cdk.json and enable it"
        )
    project = get_context(PROJECT_KEY) or "omni-cx"
    environments = [
        config_for(name, context={key: get_context(key) for key in (PROJECT_KEY, ENVIRONMENTS_KEY)})
        for name in settings.environments
    ]
    DeliveryPipelineStack(app, f"{project}-delivery", project=project, pipeline=settings, environments=environments)
    enable_compliance_checks(app)
    return app
