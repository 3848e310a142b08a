"""A REST API in front of one Lambda function, with the platform's defaults.

- IAM (SigV4) authorization on every method: the callers are channel backends and
  the contact centre, each with its own IAM role;
- request parameters validated by API Gateway, bodies by the handler (OpenAPI
  models), so every error is a problem+json answer from one place;
- JSON access logs to a KMS-encrypted log group, execution logs at ERROR level
  with data tracing off (bodies carry PII), X-Ray tracing, stage throttling;
- a WAF web ACL with AWS managed rule groups, logged;
- alarms on 5xx, p99 latency and function throttles, to the alert topic.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.config import PlatformConfig
from infra.constructs.alarms import Watch, alarm_at_or_above
from infra.constructs.compliance import acknowledge
from infra.constructs.log_group import encrypted_log_group

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


class SecureRestApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        name: str,
        description: str,
        handler: lambda_.IFunction,
        encryption_key: kms.IKey,
        alert_topic: sns.ITopic,
        routes: Sequence[tuple[str, Sequence[str]]],
        throttle_rate: int = 100,
        throttle_burst: int = 200,
        p99_latency_ms: int = 1000,
    ) -> None:
        """`routes`: (resource path, HTTP methods), e.g. ("/customers/{id}", ["GET", "PUT"])."""
        super().__init__(scope, construct_id)
        access_logs = encrypted_log_group(self, "AccessLogs", config=config, encryption_key=encryption_key)
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=name,
            description=description,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
            default_method_options=apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM),
            deploy_options=apigw.StageOptions(
                stage_name="v1",
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=throttle_rate,
                throttling_burst_limit=throttle_burst,
            ),
        )
        validator = self.api.add_request_validator(
            "Parameters", request_validator_name=f"{name}-parameters", validate_request_parameters=True
        )
        integration = apigw.LambdaIntegration(handler, proxy=True)
        for path, methods in routes:
            resource = self.api.root.resource_for_path(path)
            for method in methods:
                resource.add_method(method, integration, request_validator=validator)

        self._web_acl(config, name, encryption_key)
        self._alarms(handler, alert_topic, p99_latency_ms)
        self._acknowledge()

    def _web_acl(self, config: PlatformConfig, name: str, encryption_key: kms.IKey) -> None:
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group
                    )
                ),
                visibility_config=_visibility(f"{name}-{group}"),
            )
            for priority, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            scope="REGIONAL",
            rules=rules,
            visibility_config=_visibility(name),
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )
        # WAF delivers only to log groups whose name starts with aws-waf-logs-.
        waf_logs = encrypted_log_group(
            self, "WafLogs", config=config, encryption_key=encryption_key, name=f"aws-waf-logs-{name}"
        )
        wafv2.CfnLoggingConfiguration(
            self,
            "WafLogging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[waf_logs.log_group_arn],
        )

    def _alarms(self, handler: lambda_.IFunction, topic: sns.ITopic, p99_latency_ms: int) -> None:
        five_minutes = Duration.minutes(5)
        alarms = {
            "ServerErrors": (self.api.metric_server_error(period=five_minutes, statistic="Sum"), 1, "5xx answers"),
            "Latency": (
                self.api.metric_latency(period=five_minutes, statistic="p99"),
                p99_latency_ms,
                f"p99 latency at or above {p99_latency_ms} ms",
            ),
            "Throttles": (handler.metric_throttles(period=five_minutes), 1, "throttled function invocations"),
        }
        self.alarms = alarm_at_or_above(
            self,
            topic,
            (
                Watch(f"{construct_id}Alarm", metric, threshold, f"{self.api.rest_api_name}: {what}")
                for construct_id, (metric, threshold, what) in alarms.items()
            ),
        )
        self.server_errors_alarm = self.alarms[0]

    def _acknowledge(self) -> None:
        acknowledge(
            self.api,
            (
                "AwsSolutions-APIG2",
                "API Gateway validates request parameters; bodies are validated by the handler against the OpenAPI "
                "models it publishes (one source of truth), answered with 422 problem+json.",
            ),
            (
                "AwsSolutions-COG4",
                "Callers are channel backends and the contact centre with IAM roles: every method uses IAM (SigV4) authorization.",
            ),
            (
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-level role API Gateway needs to write execution logs; AWS's policy is scoped to logging.",
            ),
        )
        no_cache = "Responses are never cached: reads must reflect the latest write (optimistic concurrency)."
        no_client_cert = (
            "The integration is a Lambda proxy, not an HTTP backend: backend client certificates do not apply."
        )
        acknowledge(
            self.api.deployment_stage,
            ("HIPAA.Security-APIGWCacheEnabledAndEncrypted", no_cache),
            ("NIST.800.53.R5-APIGWCacheEnabledAndEncrypted", no_cache),
            ("PCI.DSS.321-APIGWCacheEnabledAndEncrypted", no_cache),
            ("HIPAA.Security-APIGWSSLEnabled", no_client_cert),
            ("NIST.800.53.R5-APIGWSSLEnabled", no_client_cert),
            ("PCI.DSS.321-APIGWSSLEnabled", no_client_cert),
        )


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )
