#!/usr/bin/env python3
"""CDK entry point: load and validate the configuration once, build the stacks of the selected stage.

npx cdk synth -c env=dev -c maturity=3
"""

import sys

from infra.errors import PlatformDefinitionError
from infra.platform_app import create_app

try:
    app, _config = create_app()
except PlatformDefinitionError as error:
    sys.exit(f"configuration error: {error}")

app.synth()
