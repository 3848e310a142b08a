"""Alert router: CloudWatch alarm state changes (EventBridge) -> one actionable message on the owning team's topic.

Behaviour is documented in `alert_router.router`; the entry point is `alert_router.handler.lambda_handler`.
"""
