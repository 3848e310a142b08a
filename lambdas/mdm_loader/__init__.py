"""MDM loader: loads a published matching run (golden records, identity links, merges) into DynamoDB.

Behaviour is documented in `mdm_loader.loader`; the entry point is `mdm_loader.handler.lambda_handler`.
"""
