"""SageMaker script-mode entry point for training (`sagemaker_program`).

The training toolkit runs this file as a script from the source bundle's root, so
the `propensity` package beside it is importable; the logic lives there.
"""

import sys

from propensity.train import parse_args, run

if __name__ == "__main__":
    run(parse_args(sys.argv[1:]))
