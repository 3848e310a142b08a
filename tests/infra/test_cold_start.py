"""Every function's handler imports on a cold start with only what Lambda gives it.

The unit tests import handlers from the development venv, where everything in
pyproject.toml is installed: a handler that imports pandas, aws_cdk or the
`infra` package passes them and fails its first invocation in AWS. Here each
function of the synthesized stage-5 app is imported in a fresh interpreter
(`cold_start_probe.py`, `python -I -S`) whose path holds only:

- the function's own asset folder, as staged by synthesis (what is uploaded);
- the Powertools layer: the installed aws-lambda-powertools with the extras the
  tests install and everything they require, less what the layer's build
  deletes because the runtime has it (`infra/data/powertools_layer.json`);
- the runtime's boto3 and its requirements.

Each gets the environment variables its template sets (deploy-time references
stood in by values of the right shape) plus those Lambda sets. The import
fails the test, and so does any module loaded from outside those folders and
the standard library. The layer holds more than the tests install
(`[all]`), so a handler needing an extra beyond tracer, validation and parser
fails here first: add the extra to the dev pin.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.assembly import CloudAssembly, Intrinsics
from infra.config import config_for
from infra.constructs.platform_function import LAMBDA_ASSET_ROOT, RUNTIME
from infra.powertools_layer import powertools_layer
from infra.stages import Stage

from .conftest import ENVIRONMENTS, Synthesis

PROBE = Path(__file__).with_name("cold_start_probe.py")
# The parts of the layer's [all] that the dev extra installs (pyproject.toml).
LAYER_EXTRAS = frozenset({"tracer", "validation", "parser"})
HANDLER_PACKAGES = sorted(path.parent.name for path in LAMBDA_ASSET_ROOT.glob("*/handler.py"))
ACCOUNT = "123456789012"
PROBE_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class RuntimeFolders:
    layer: Path
    runtime: Path


@dataclass(frozen=True)
class DeployedFunction:
    stack: str
    logical_id: str
    handler: str
    asset: Path
    environment: dict[str, str]
    layers: str
    runtime: str


def _requirements_closure(name: str, extras: Iterable[str] = ()) -> set[str]:
    """The distributions `name[extras]` needs, itself included, as installed here (canonical names)."""
    wanted: dict[str, set[str]] = {}
    todo = [(name, set(extras))]
    while todo:
        current, current_extras = todo.pop()
        key = canonicalize_name(current)
        if key in wanted and current_extras <= wanted[key]:
            continue
        wanted.setdefault(key, set()).update(current_extras)
        for line in importlib.metadata.requires(current) or []:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in ("", *wanted[key])]
            if requirement.marker is None or any(requirement.marker.evaluate(env) for env in environments):
                todo.append((requirement.name, set(requirement.extras)))
    return set(wanted)


def _link_distributions(names: Iterable[str], folder: Path) -> None:
    """Symlink each distribution's top-level modules, packages and metadata into `folder` (no copy, no network)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in sorted(names):
        distribution = importlib.metadata.distribution(name)
        for top in sorted({PurePosixPath(str(file)).parts[0] for file in distribution.files or []}):
            if top in {"..", "__pycache__"} or top.endswith(".pth"):
                continue  # console scripts live outside site-packages; .pth files are not read on Lambda
            link = folder / top
            if not link.exists():
                link.symlink_to(Path(str(distribution.locate_file(top))))


@pytest.fixture(scope="session")
def runtime_folders(tmp_path_factory: pytest.TempPathFactory) -> RuntimeFolders:
    root = tmp_path_factory.mktemp("lambda-runtime")
    provided = {canonicalize_name(name) for name in powertools_layer().runtime_provided}
    runtime = _requirements_closure("boto3")
    # The layer build deletes these because the runtime has them; the runtime must then have them all.
    assert provided <= runtime, f"the layer relies on the runtime for {sorted(provided - runtime)}"
    folders = RuntimeFolders(layer=root / "layer", runtime=root / "runtime")
    _link_distributions(_requirements_closure("aws-lambda-powertools", LAYER_EXTRAS) - provided, folders.layer)
    _link_distributions(runtime, folders.runtime)
    return folders


def _attributes(assembly: CloudAssembly, region: str) -> Callable[[str, str], Mapping[str, str]]:
    """A resource's Ref and Arn, of the shape CloudFormation gives them (deploy-time names stood in)."""

    def attributes(stack: str, logical_id: str) -> Mapping[str, str]:
        kind = assembly.resource(stack, logical_id).type
        name = f"omni-cx-{logical_id.lower()}"
        arn = f"arn:aws:{kind.split('::')[1].lower()}:{region}:{ACCOUNT}:{name}"
        if kind == "AWS::SNS::Topic":
            return {"Ref": arn, "Arn": arn}
        if kind == "AWS::SQS::Queue":
            return {"Ref": f"https://sqs.{region}.amazonaws.com/{ACCOUNT}/{name}", "Arn": arn}
        return {"Ref": name, "Arn": arn}

    return attributes


def _deployed_functions(synthesis: Synthesis, region: str) -> list[DeployedFunction]:
    functions = []
    assembly = synthesis.assembly()
    intrinsics = Intrinsics(assembly, account=ACCOUNT, region=region, attributes=_attributes(assembly, region))
    for function in assembly.resources("AWS::Lambda::Function"):
        properties = function.properties
        if not str(properties.get("Runtime", "")).startswith("python"):
            continue
        variables = intrinsics.resolve(properties.get("Environment", {}).get("Variables", {}), function.stack)
        functions.append(
            DeployedFunction(
                stack=function.stack,
                logical_id=function.logical_id,
                handler=properties["Handler"],
                asset=assembly.asset_directory(function.stack, function.logical_id),
                environment={
                    name: value if isinstance(value, str) else json.dumps(value) for name, value in variables.items()
                },
                layers=json.dumps(properties.get("Layers", [])),
                runtime=properties["Runtime"],
            )
        )
    return functions


def _lambda_environment(function: DeployedFunction, region: str) -> dict[str, str]:
    """What Lambda sets for every function, then the function's own variables."""
    return {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": f"{function.stack}-{function.logical_id}",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.stack}-{function.logical_id}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[1]0123456789abcdef",
        "AWS_ACCESS_KEY_ID": "ASIAXXXXXXXXXXXXXXXX",
        "AWS_SECRET_ACCESS_KEY": "cold-start-probe-secret",
        "AWS_SESSION_TOKEN": "cold-start-probe-token",
        "LAMBDA_TASK_ROOT": str(function.asset),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": function.handler,
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        **function.environment,
    }


def _probe(handler: str, roots: Iterable[Path], environment: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and probe script, no shell
        [sys.executable, "-I", "-S", "-B", str(PROBE), handler, *(str(root) for root in roots)],
        env=dict(environment),
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_SECONDS,
        check=False,
    )


def _stage5(syntheses: Mapping[tuple[str, Stage], Synthesis], env: str) -> Synthesis:
    synthesis = syntheses[env, Stage.SEAMLESS]
    assert synthesis.templates, f"{env} did not synthesize: {synthesis.error}"
    return synthesis


# Packages only an opt-in setting deploys, so no default stage-5 app runs them: each is probed in the synthesis
# of its setting, by the test named here.
OPT_IN_PACKAGES = {
    "matching_pipeline": "mdm.engine entity-resolution: tests/infra/test_customer_domain_stack.py",
}
CASES = [(env, package) for env in ENVIRONMENTS for package in HANDLER_PACKAGES if package not in OPT_IN_PACKAGES]


@pytest.mark.parametrize(("env", "package"), CASES, ids=[f"{env}-{package}" for env, package in CASES])
def test_the_handler_imports_with_only_its_asset_the_layer_and_the_runtime(
    syntheses: Mapping[tuple[str, Stage], Synthesis], runtime_folders: RuntimeFolders, env: str, package: str
) -> None:
    region = config_for(env).region
    functions = [
        function
        for function in _deployed_functions(_stage5(syntheses, env), region)
        if function.handler.split(".", 1)[0] == package
    ]
    assert functions, f"no {env} function at stage 5 runs {package}: remove lambdas/{package}/handler.py or deploy it"
    for function in functions:
        result = _probe(
            function.handler,
            [function.asset, runtime_folders.layer, runtime_folders.runtime],
            _lambda_environment(function, region),
        )
        assert result.returncode == 0, (
            f"{function.stack} {function.logical_id} ({function.handler}) fails its cold start:\n"
            f"{result.stdout}{result.stderr[-4000:]}"
        )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_python_function_runs_the_asset_on_the_recorded_layer(
    syntheses: Mapping[tuple[str, Stage], Synthesis], env: str
) -> None:
    # The cold-start cases above cover the packages with a handler.py; a function outside them would go untested.
    layer = powertools_layer()
    for function in _deployed_functions(_stage5(syntheses, env), config_for(env).region):
        assert function.runtime == RUNTIME.name, f"{function.logical_id} runs {function.runtime}"
        assert function.handler.split(".", 1)[0] in HANDLER_PACKAGES, function.handler
        assert f":layer:{layer.name}:" in function.layers, f"{function.logical_id} has no Powertools layer"
        handler_module = function.handler.rpartition(".")[0].replace(".", "/") + ".py"
        assert (function.asset / handler_module).is_file(), f"{function.logical_id} does not run its lambdas/ asset"


@pytest.mark.parametrize(
    ("source", "complaint"),
    [
        ("import pandas", "ModuleNotFoundError: No module named 'pandas'"),
        ("import aws_cdk", "ModuleNotFoundError: No module named 'aws_cdk'"),
        # Reaching into the build machine's packages imports fine here, and never in AWS.
        ("import sys\nsys.path.append({site!r})\nimport pandas", '"pandas from '),
    ],
    ids=["pandas", "aws_cdk", "sneaked-path"],
)
def test_the_probe_rejects_a_handler_that_needs_more_than_lambda_gives(
    tmp_path: Path, runtime_folders: RuntimeFolders, source: str, complaint: str
) -> None:
    site = str(importlib.metadata.distribution("pandas").locate_file(""))
    (tmp_path / "planted").mkdir()
    (tmp_path / "planted" / "__init__.py").write_text("")
    handler = f"{source.format(site=site)}\n\n\ndef lambda_handler(event, context):\n    return event\n"
    (tmp_path / "planted" / "handler.py").write_text(handler)
    result = _probe(
        "planted.handler.lambda_handler",
        [tmp_path, runtime_folders.layer, runtime_folders.runtime],
        {"AWS_REGION": "eu-west-2", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert complaint in result.stdout + result.stderr


def test_the_probe_rejects_settings_the_functions_environment_cannot_build(
    tmp_path: Path, runtime_folders: RuntimeFolders
) -> None:
    """A handler reads its settings on its first event: the probe builds them, so a missing variable fails here."""
    (tmp_path / "planted").mkdir()
    (tmp_path / "planted" / "__init__.py").write_text("")
    (tmp_path / "planted" / "handler.py").write_text("def lambda_handler(event, context):\n    return event\n")
    settings = (
        "import os\n\nfrom pydantic import BaseModel, Field\n\n\n"
        "class Settings(BaseModel):\n"
        '    table: str = Field(alias="TABLE_NAME", min_length=3)\n\n'
        "    @classmethod\n"
        "    def from_environment(cls):\n"
        "        return cls.model_validate(dict(os.environ))\n"
    )
    (tmp_path / "planted" / "settings.py").write_text(settings)
    roots = [tmp_path, runtime_folders.layer, runtime_folders.runtime]
    environment = {"AWS_REGION": "eu-west-2", "PATH": "/usr/bin:/bin"}
    missing = _probe("planted.handler.lambda_handler", roots, environment)
    given = _probe("planted.handler.lambda_handler", roots, {**environment, "TABLE_NAME": "customers"})
    assert missing.returncode == 1
    assert "planted.settings.Settings.from_environment(): ValidationError" in missing.stdout
    assert "TABLE_NAME" in missing.stdout
    assert given.returncode == 0, given.stdout + given.stderr


def test_the_layer_folder_holds_powertools_and_pydantic_but_not_boto3(runtime_folders: RuntimeFolders) -> None:
    layer = {path.name for path in runtime_folders.layer.iterdir()}
    assert {"aws_lambda_powertools", "pydantic", "pydantic_core", "aws_xray_sdk", "fastjsonschema"} <= layer
    assert not {"boto3", "botocore", "jmespath"} & layer
    assert {"boto3", "botocore", "jmespath"} <= {path.name for path in runtime_folders.runtime.iterdir()}
