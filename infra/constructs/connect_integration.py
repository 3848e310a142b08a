"""A Lambda function that contact flows may call: associated with the instance, invokable by it alone.

Connect calls a function only once it is associated with the instance
(`AWS::Connect::IntegrationAssociation`), and the function's resource policy lets
`connect.amazonaws.com` invoke it only on behalf of that instance (source ARN)
in this account. Flows that call it must depend on both (`dependables`).
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_connect as connect
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IDependable


class ConnectLambdaIntegration(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, function: lambda_.IFunction, instance_arn: str) -> None:
        super().__init__(scope, construct_id)
        association = connect.CfnIntegrationAssociation(
            self,
            "Association",
            instance_id=instance_arn,
            integration_type="LAMBDA_FUNCTION",
            integration_arn=function.function_arn,
        )
        permission = lambda_.CfnPermission(
            self,
            "ConnectMayInvoke",
            action="lambda:InvokeFunction",
            function_name=function.function_arn,
            principal="connect.amazonaws.com",
            source_arn=instance_arn,
            source_account=Stack.of(self).account,
        )
        self.dependables: list[IDependable] = [association, permission]
