#!/usr/bin/env python3
"""CDK entry point of the opt-in delivery pipeline (`omni:pipeline` in cdk.json); the platform itself is app.py.

npx cdk synth --app '.venv/bin/python pipeline_app.py'
"""

import sys

from infra.delivery_pipeline import create_pipeline_app
from infra.errors import PlatformDefinitionError

try:
    app = create_pipeline_app()
except PlatformDefinitionError as error:
    sys.exit(f"configuration error: {error}")

app.synth()
