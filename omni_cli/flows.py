"""`omni flows ...`: validate, render, deploy, export and simulate contact flows.

Exit codes: 0 success, 1 the flows have errors (validation problems, a flow the
service rejected), 2 a user error (raised as CliError: bad arguments, missing
resources in the instance).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

from connect_flows.manifest import MODULE, FlowType
from omni_cli.main import CliError

DEFAULT_ENV = "dev"
# The flow types of the API and the flow module: the manifest's own list, so the two cannot drift.
FLOW_KINDS = (*get_args(FlowType), MODULE)


def register(subparsers: Any) -> None:
    flows = subparsers.add_parser("flows", help="validate, render, deploy, export and simulate contact flows")
    actions = flows.add_subparsers(dest="flows_command", required=True, metavar="ACTION")

    validate = actions.add_parser("validate", help="check flows against the flow-language rules")
    validate.add_argument("files", nargs="*", type=Path, help="flow files (default: every flow in the manifest)")
    validate.add_argument(
        "--rendered", action="store_true", help="accept ARNs (flows rendered for or exported from an instance)"
    )
    validate.add_argument(
        "--type",
        dest="flow_type",
        choices=FLOW_KINDS,
        help="flow type to check the files against (default: the file's wrapper, else its manifest entry)",
    )
    validate.set_defaults(func=_validate)

    reference = actions.add_parser("reference", help="write docs/connect-flow-language.md from the flow-language table")
    reference.add_argument("--check", action="store_true", help="only check that the page is up to date")
    reference.set_defaults(func=_reference)

    render = actions.add_parser(
        "render", help="resolve placeholders from an instance's resources or a resource map, for console import"
    )
    source = render.add_mutually_exclusive_group(required=True)
    source.add_argument("--instance-id", help="Amazon Connect instance id (lists its resources; needs credentials)")
    source.add_argument(
        "--resources",
        type=Path,
        metavar="FILE",
        help="resource map {kind: {name: ARN}} as written by export --resources (no credentials needed)",
    )
    render.add_argument("--region", help="AWS region (default: from the AWS configuration)")
    render.add_argument("--out", type=Path, required=True, help="directory for the rendered flows")
    render.add_argument("--flow", help="one flow of the manifest (default: all)")
    render.set_defaults(func=_render)

    deploy = actions.add_parser("deploy", help="create or update flows in an instance (published)")
    _instance_arguments(deploy)
    deploy.add_argument("--flow", help="one flow of the manifest (default: all, dependencies first)")
    deploy.set_defaults(func=_deploy)

    export = actions.add_parser(
        "export", help="read a flow back from an instance as a source flow (ARNs -> placeholders)"
    )
    _instance_arguments(export)
    export.add_argument("--flow", required=True, help="the flow's manifest name, e.g. basic_inbound")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    export.add_argument(
        "--resources",
        type=Path,
        metavar="FILE",
        help="also write the instance's resource map {kind: {name: ARN}}, for render --resources",
    )
    export.set_defaults(func=_export)

    simulate = actions.add_parser("simulate", help="walk a flow offline with a simulated caller")
    simulate.add_argument(
        "flow",
        metavar="NAME|FILE",
        help="a flow's manifest name (personalised_inbound) or a flow file: source, rendered or exported",
    )
    simulate.add_argument("--phone", required=True, help="caller number, E.164 (+44...)")
    simulate.add_argument("--attr", action="append", default=[], metavar="KEY=VALUE", help="initial contact attribute")
    simulate.add_argument(
        "--at", help="call time, ISO 8601; without an offset, local to the contact centre (default: now)"
    )
    simulate.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="ANSWER",
        help="the caller's answer to the next input block: DTMF digits, or the intent a Lex bot recognises",
    )
    simulate.add_argument(
        "--lambda",
        dest="lambdas",
        action="append",
        default=[],
        metavar="NAME=MODULE:FUNCTION",
        help="handler for ${lambda:NAME}, called in-process",
    )
    simulate.add_argument(
        "--lambda-response",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="canned response for ${lambda:NAME}",
    )
    simulate.add_argument(
        "--env", default=DEFAULT_ENV, help="environment whose opening hours apply (default: %(default)s)"
    )
    simulate.set_defaults(func=_simulate)


def _instance_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--instance-id", required=True, help="Amazon Connect instance id")
    parser.add_argument("--region", help="AWS region (default: from the AWS configuration)")


def _manifest() -> Any:
    from connect_flows.manifest import load_manifest

    return load_manifest()


def connect_client(region: str | None) -> Any:
    """The Connect client; standard retries absorb the flow APIs' 2 requests/s throttle."""
    import boto3
    from botocore.config import Config

    return boto3.client("connect", region_name=region, config=Config(retries={"mode": "standard", "max_attempts": 8}))


def _validate(args: argparse.Namespace) -> int:
    from connect_flows.validate import Severity, validate_file

    manifest = _manifest()
    files = args.files or manifest.all_paths()
    counts = {Severity.ERROR: 0, Severity.WARNING: 0}
    for path in files:
        for problem in validate_file(path, rendered=args.rendered, manifest=manifest, flow_type=args.flow_type):
            counts[problem.severity] += 1
            print(problem.format(str(path)))
    print(f"{len(files)} flows: {counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings", file=sys.stderr)
    return 1 if counts[Severity.ERROR] else 0


def _reference(args: argparse.Namespace) -> int:
    from connect_flows.language_doc import DOC_PATH, render_reference

    text = render_reference()
    current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.is_file() else ""
    if args.check:
        if current != text:
            print(f"{DOC_PATH.name} is out of date: run omni flows reference", file=sys.stderr)
            return 1
        print(f"{DOC_PATH.name} is up to date")
        return 0
    DOC_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {DOC_PATH}")
    return 0


def _instance_resolver(manifest: Any, client: Any, instance_id: str) -> tuple[list[Any], dict[tuple[str, str], str]]:
    from botocore.exceptions import BotoCoreError, ClientError

    from connect_flows.instance import AmbiguousResourceError, list_instance_resources, resolver_for
    from connect_flows.placeholders import placeholders_in

    try:
        resources = list_instance_resources(client, instance_id)
    except (BotoCoreError, ClientError) as error:
        raise CliError(f"cannot list the resources of instance {instance_id}: {error}") from None
    used = set().union(*(placeholders_in(document) for document in manifest.documents().values()))
    try:
        return resources, resolver_for(manifest, resources, used)
    except AmbiguousResourceError as error:
        raise CliError(str(error)) from None


def _rendered(
    manifest: Any, key: str, resolver: dict[tuple[str, str], str], hint: str = "the instance needs"
) -> dict[str, Any]:
    from connect_flows.instance import describe_wanted
    from connect_flows.placeholders import parse_placeholder
    from connect_flows.render import UnresolvedPlaceholderError, render

    try:
        return render(manifest.load(key), resolver)
    except UnresolvedPlaceholderError as error:
        if hint.startswith("the instance"):
            wanted = {
                describe_wanted(manifest, placeholder)
                for item in error.unresolved
                if (placeholder := parse_placeholder(item.value)) is not None
            }
        else:
            wanted = {
                f"{placeholder.kind}.{placeholder.name}"
                for item in error.unresolved
                if (placeholder := parse_placeholder(item.value)) is not None
            }
        lines = "".join(f"\n  {hint} {line}" for line in sorted(wanted))
        raise CliError(f"{manifest.item(key).file}: {error}{lines}") from None


def _keys(manifest: Any, flow: str | None) -> list[str]:
    """The flows and modules to work on: one by name, or all, modules first."""
    if flow is None:
        return manifest.deploy_order()
    if flow not in manifest.deploy_order():
        raise CliError(
            f"no flow or module {flow!r} in the manifest (flows and modules: {', '.join(manifest.deploy_order())})"
        )
    return [flow]


def _offline_resolver(path: Path) -> dict[tuple[str, str], str]:
    from connect_flows.resources import ResourceMapError, load_resource_map

    try:
        return load_resource_map(path).resolver()
    except ResourceMapError as error:
        raise CliError(str(error)) from None


def _render(args: argparse.Namespace) -> int:
    manifest = _manifest()
    keys = _keys(manifest, args.flow)
    if args.resources is not None:
        resolver = _offline_resolver(args.resources)
        hint = f"the resource map {args.resources} needs"
    else:
        _, resolver = _instance_resolver(manifest, connect_client(args.region), args.instance_id)
        hint = "the instance needs"
    args.out.mkdir(parents=True, exist_ok=True)
    for key in keys:
        target = args.out / f"{key}.json"
        target.write_text(
            json.dumps(_rendered(manifest, key, resolver, hint), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        print(f"{manifest.item(key).name}: {target}")
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError

    from connect_flows.deploy import TargetInstance, deploy_flow, deploy_module
    from connect_flows.validate import errors, validate_flow

    manifest = _manifest()
    keys = _keys(manifest, args.flow)
    client = connect_client(args.region)
    resources, resolver = _instance_resolver(manifest, client, args.instance_id)
    existing = {
        (resource.kind, resource.name): resource for resource in resources if resource.kind in ("flow", "module")
    }
    for key in keys:
        entry, kind = manifest.item(key), manifest.kind(key)
        document = _rendered(manifest, key, resolver)
        problems = errors(validate_flow(document, rendered=True, flow_type=kind))
        if problems:
            for problem in problems:
                print(problem.format(entry.file), file=sys.stderr)
            return 1
        content = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        try:
            target = TargetInstance(client, args.instance_id, existing, resolver)
            if key in manifest.modules:
                deployed = deploy_module(target, key, manifest.modules[key], content)
            else:
                deployed = deploy_flow(target, key, manifest.flows[key], content)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in ("InvalidContactFlowException", "InvalidContactFlowModuleException"):
                raise CliError(
                    f"{entry.name}: {code}: {error.response.get('Error', {}).get('Message', error)}"
                ) from None
            print(f"{entry.file}: rejected by Amazon Connect:", file=sys.stderr)
            # Flows report `problems`, flow modules `Problems`.
            for problem in error.response.get("problems", error.response.get("Problems", [])):
                print(f"{entry.file}: {problem.get('message', problem)}", file=sys.stderr)
            return 1
        print(
            f"{deployed.name}: updated" if deployed.created is None else f"{deployed.name}: created {deployed.created}"
        )
    return 0


def _export(args: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError

    from connect_flows.instance import known_arns
    from connect_flows.placeholders import placeholders_in
    from connect_flows.render import UnknownArnError, export

    manifest = _manifest()
    key = _keys(manifest, args.flow)[0]
    entry = manifest.item(key)
    kind = "module" if key in manifest.modules else "flow"
    client = connect_client(args.region)
    resources, _ = _instance_resolver(manifest, client, args.instance_id)
    found = next((r for r in resources if r.kind == kind and r.name == entry.name), None)
    if found is None:
        raise CliError(f"instance {args.instance_id} has no {kind} named {entry.name!r}")
    try:
        if kind == "module":
            described = client.describe_contact_flow_module(InstanceId=args.instance_id, ContactFlowModuleId=found.id)
            content = described["ContactFlowModule"]["Content"]
        else:
            described = client.describe_contact_flow(InstanceId=args.instance_id, ContactFlowId=found.id)
            content = described["ContactFlow"]["Content"]
    except ClientError as error:
        raise CliError(f"{entry.name}: {error}") from None
    used = set().union(*(placeholders_in(document) for document in manifest.documents().values()))
    known = known_arns(manifest, resources, used)
    if args.resources is not None:
        from connect_flows.resources import ResourceMap

        args.resources.write_text(ResourceMap.from_known(known).to_json(), encoding="utf-8")
        print(f"resources of instance {args.instance_id}: {args.resources}", file=sys.stderr)
    try:
        source = export(json.loads(content), known)
    except UnknownArnError as error:
        raise CliError(f"{entry.name}: {error}\n  name the resource in the manifest's resources section") from None
    text = json.dumps(source, indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"{entry.name}: {args.out}")
    return 0


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, separator, rest = value.partition("=")
        if not separator or not key:
            raise CliError(f"{option} {value!r}: expected NAME=VALUE")
        pairs[key] = rest
    return pairs


def _lambda_functions(args: argparse.Namespace) -> dict[str, Any]:
    functions: dict[str, Any] = {}
    for name, target in _pairs(args.lambdas, "--lambda").items():
        module_name, _, attribute = target.partition(":")
        try:
            functions[name] = getattr(importlib.import_module(module_name), attribute or "lambda_handler")
        except (ImportError, AttributeError) as error:
            raise CliError(f"--lambda {name}={target}: {error}") from None
    for name, text in _pairs(args.lambda_response, "--lambda-response").items():
        try:
            response = json.loads(text)
        except json.JSONDecodeError as error:
            raise CliError(f"--lambda-response {name}: not JSON: {error}") from None
        functions[name] = lambda _event, _context, response=response: response
    return functions


def _flows_to_simulate(manifest: Any, target: str) -> tuple[str, dict[str, Any]]:
    """(name to start from, flows by name): the manifest's flows, plus the file `target` names, if it is one."""
    from connect_flows.documents import FlowFileError, read_flow_file

    flows = {key: manifest.load_flow(key) for key in manifest.flows}
    if target in manifest.flows:
        return target, flows
    if target in manifest.modules:
        flows[target] = manifest.load_module(target)
        return target, flows
    path = Path(target)
    if not path.is_file():
        raise CliError(f"no flow {target!r} in the manifest and no such file (flows: {', '.join(manifest.flows)})")
    try:
        loaded = read_flow_file(path)
    except FlowFileError as error:
        raise CliError(f"{path}: {error}") from None
    flows[path.stem] = loaded.document
    return path.stem, flows


def _simulate(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from connect_flows.simulate import Contact, HoursOfOperation, SimulationError, Simulator
    from infra.config import ConfigError, config_for

    manifest = _manifest()
    name, flows = _flows_to_simulate(manifest, args.flow)
    try:
        centre = config_for(args.env).environment.contact_centre
    except ConfigError as error:
        raise CliError(str(error)) from None
    hours = HoursOfOperation(centre.time_zone, {str(day): window for day, window in centre.hours.items()})
    at = datetime.now(ZoneInfo(centre.time_zone))
    if args.at:
        try:
            at = datetime.fromisoformat(args.at)
        except ValueError:
            raise CliError(f"--at {args.at!r}: expected ISO 8601, e.g. 2026-11-23T09:30") from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=ZoneInfo(centre.time_zone))
    simulator = Simulator(
        flows,
        lambdas=_lambda_functions(args),
        # The contact-centre stack gives every queue the business hours.
        hours={"business_hours": hours},
        queue_hours=dict.fromkeys(centre.queues, "business_hours"),
    )
    contact = Contact(phone=args.phone, at=at, attributes=_pairs(args.attr, "--attr"), dtmf=tuple(args.input))
    try:
        trace = simulator.run(name, contact)
    except SimulationError as error:
        raise CliError(str(error)) from None
    print(trace.format())
    return 0
