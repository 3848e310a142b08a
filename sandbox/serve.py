"""`omni sandbox serve`: the platform's REST APIs on a local HTTP port, backed by the sandbox's moto state.

Each HTTP request becomes the API Gateway REST proxy event the deployed API would
send (resource path and path parameters matched from the API's resources in the
synthesized templates, headers, query string, body, an IAM caller identity), the
real handler runs in-process through `LocalPlatform.invoke`, and its proxy
response becomes the HTTP response. Routes, handlers and their environment all
come from the templates, so a route added to a stack is served on the next start.

Handlers run one at a time under a lock: moto's state and `os.environ` (which
`invoke` sets to the function's environment) are process-global.

Also served: `/openapi/<api>.json` (each API's OpenAPI document, generated from
its handler's routes, with this server as its `servers` entry) and an index page at `/`.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sandbox.events import api_gateway_event

if TYPE_CHECKING:  # the platform imports moto and boto3: only `serve` itself needs them, not `omni --help`
    from sandbox.platform import LocalPlatform

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
REST_API_TYPE = "AWS::ApiGateway::RestApi"
RESOURCE_TYPE = "AWS::ApiGateway::Resource"
METHOD_TYPE = "AWS::ApiGateway::Method"
JSON = "application/json"

# A few customers and a rule set, written through the APIs themselves, so a first curl has something to read.
SEED_CUSTOMERS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "gc-0a1b2c3d4e5f60718293",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada.lovelace@example.com",
            "phone": "07700 900123",
            "address": {"line1": "12 St James's Square", "city": "London", "postcode": "SW1Y 4JH", "country": "GB"},
            "language": "en-GB",
            "preferred_channel": "email",
        },
    ),
    (
        "gc-1b2c3d4e5f6071829304",
        {
            "first_name": "Alan",
            "last_name": "Turing",
            "email": "alan.turing@example.com",
            "phone": "07700 900456",
            "address": {"line1": "2 Bletchley Road", "city": "Milton Keynes", "postcode": "MK3 6EB", "country": "GB"},
            "language": "en-GB",
            "preferred_channel": "app",
        },
    ),
    (
        "gc-2c3d4e5f607182930415",
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "grace.hopper@example.com",
            "phone": "07700 900789",
            "address": {"line1": "1 Harbour Street", "city": "Leeds", "postcode": "LS1 4AP", "country": "GB"},
            "language": "en-GB",
            "preferred_channel": "web",
        },
    ),
)
SEED_RULE_SET_VERSION = "sandbox-1"
SEED_RULE_SET: dict[str, Any] = {
    "description": "Sandbox offers",
    "offers": [
        {
            "code": "BB-SPEED-UP",
            "product": "broadband",
            "description": "A faster line at no extra cost",
            "priority": 10,
            "conditions": [{"attribute": "credit_band", "op": "in", "value": ["A", "B", "C"], "if_missing": "pass"}],
        }
    ],
}


class ServeError(Exception):
    """The server cannot start: no API to serve, one it cannot serve, or seeding failed."""


@dataclass(frozen=True, slots=True)
class Route:
    """One method of one API resource, and the handler its integration invokes."""

    api: str  # the handler's package, e.g. "profiles": also the name of its OpenAPI document
    method: str
    resource: str  # the API Gateway resource path, e.g. /customers/{customer_id}
    handler: str  # the function's handler path, e.g. profiles.handler.lambda_handler
    pattern: re.Pattern[str] = field(compare=False, repr=False)

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        return None if found is None else {name: unquote(value) for name, value in found.groupdict().items()}


def resource_pattern(resource: str) -> re.Pattern[str]:
    """A resource path as a regular expression: `{name}` is one segment, `{name+}` the rest of the path."""
    parts = []
    for segment in resource.strip("/").split("/"):
        greedy = re.fullmatch(r"\{([A-Za-z0-9_]+)\+\}", segment)
        single = re.fullmatch(r"\{([A-Za-z0-9_]+)\}", segment)
        if greedy:
            parts.append(f"(?P<{greedy.group(1)}>.+)")
        elif single:
            parts.append(f"(?P<{single.group(1)}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("/" + "/".join(parts) if parts != [""] else "/")


def api_routes(platform: LocalPlatform) -> list[Route]:
    """Every (method, resource path) of every REST API in the templates, with the handler it invokes."""
    handlers = {(fn.stack, fn.logical_id): fn.handler for fn in platform.functions()}
    routes = []
    for method in platform.resources(METHOD_TYPE):
        stack = platform.templates.template(method.stack)["Resources"]
        http_method = str(method.properties.get("HttpMethod", "")).upper()
        integration = method.properties.get("Integration") or {}
        if http_method == "OPTIONS" or integration.get("Type") != "AWS_PROXY":
            continue
        function_ids = platform.function_ids(method.stack, integration.get("Uri"))
        if len(function_ids) != 1:
            raise ServeError(f"{method.stack}/{method.logical_id}: the integration names {len(function_ids)} functions")
        handler = handlers.get((method.stack, function_ids[0]))
        if handler is None:
            raise ServeError(f"{method.stack}/{function_ids[0]}: not a Python function the sandbox can invoke")
        resource = _resource_path(platform, stack, method.properties.get("ResourceId"))
        routes.append(Route(handler.split(".", 1)[0], http_method, resource, handler, resource_pattern(resource)))
    _refuse_clashes(routes)
    # Literal segments before parameters (as API Gateway prefers), then a stable order.
    return sorted(routes, key=lambda r: (r.resource.count("{"), r.resource, r.method))


def _resource_path(platform: LocalPlatform, stack: Mapping[str, Any], reference: Any) -> str:
    """Walk AWS::ApiGateway::Resource parents up to the API's root resource."""
    segments: list[str] = []
    seen: set[str] = set()
    while True:
        ids = platform.resolver.referenced_ids(reference)
        resource = stack.get(ids[0]) if ids else None
        if resource is None or resource.get("Type") != RESOURCE_TYPE or ids[0] in seen:
            break  # the root resource (GetAtt RestApi.RootResourceId)
        seen.add(ids[0])
        segments.append(str(resource["Properties"]["PathPart"]))
        reference = resource["Properties"].get("ParentId")
    return "/" + "/".join(reversed(segments))


def _refuse_clashes(routes: Sequence[Route]) -> None:
    owners: dict[tuple[str, str], str] = {}
    for route in routes:
        key = (route.method, re.sub(r"\{[^}]+\}", "{}", route.resource))
        if key in owners and owners[key] != route.api:
            raise ServeError(f"{route.method} {route.resource} is served by both {owners[key]} and {route.api}")
        owners[key] = route.api


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class LocalApis:
    """The REST APIs of a local platform: HTTP requests in, proxy events to the real handlers, HTTP responses out."""

    def __init__(self, platform: LocalPlatform, routes: Sequence[Route] | None = None) -> None:
        self.platform = platform
        self.routes = list(routes if routes is not None else api_routes(platform))
        if not self.routes:
            raise ServeError("no REST API at this stage: the profile API arrives at stage 3")
        self.lock = threading.Lock()
        self.base_url = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"

    @property
    def apis(self) -> list[str]:
        return sorted({route.api for route in self.routes})

    def handle(self, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes) -> HttpResponse:
        url = urlsplit(target)
        path = url.path or "/"
        if path == "/" and method in ("GET", "HEAD"):
            return _respond(HTTPStatus.OK, self.index_page().encode(), "text/html; charset=utf-8")
        document = re.fullmatch(r"/openapi/([a-z_]+)\.json", path)
        if document and method in ("GET", "HEAD"):
            return self._openapi(document.group(1))
        allowed = []
        for route in self.routes:
            parameters = route.match(path)
            if parameters is None:
                continue
            if route.method == method:
                event = self.event(route, path, parameters=parameters, query=url.query, headers=headers, body=body)
                with self.lock:
                    response = self.platform.invoke(route.handler, event)
                return proxy_response(response)
            allowed.append(route.method)
        if allowed:
            return _problem(
                HTTPStatus.METHOD_NOT_ALLOWED, f"{method} {path}: allowed {', '.join(allowed)}", allow=allowed
            )
        return _problem(HTTPStatus.NOT_FOUND, f"no API resource matches {path}; see / for the routes")

    def event(
        self,
        route: Route,
        path: str,
        *,
        parameters: Mapping[str, str],
        query: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
    ) -> dict[str, Any]:
        """The API Gateway REST proxy event of one request, as the deployed API would send it."""
        pairs = parse_qsl(query, keep_blank_values=True)
        text, is_base64 = _body_text(body)
        event = api_gateway_event(
            route.method,
            path,
            resource=route.resource,
            path_parameters=parameters,
            query=dict(pairs),
            body=text,
            headers=dict(headers),
            account=self.platform.account,
            region=self.platform.region,
        )
        multi_headers: dict[str, list[str]] = {}
        for name, value in headers:
            multi_headers.setdefault(name, []).append(value)
        event["multiValueHeaders"] = {**event["multiValueHeaders"], **multi_headers}
        if pairs:
            multi_query: dict[str, list[str]] = {}
            for name, value in pairs:
                multi_query.setdefault(name, []).append(value)
            event["multiValueQueryStringParameters"] = multi_query
        event["isBase64Encoded"] = is_base64
        return event

    def index_page(self) -> str:
        rows = "\n".join(
            f"<tr><td>{route.method}</td><td><code>{_html(route.resource)}</code></td><td>{route.api}</td></tr>"
            for route in self.routes
        )
        documents = " · ".join(f'<a href="/openapi/{api}.json">{api}</a>' for api in self.apis)
        return (
            "<!doctype html>\n<html><head><meta charset='utf-8'><title>omni sandbox</title></head><body>\n"
            f"<h1>omni sandbox: {self.platform.config.env_name} at stage {self.platform.config.maturity.label}</h1>\n"
            "<p>The platform's REST APIs, run by their real handlers against the sandbox's moto state. "
            f"OpenAPI documents: {documents}</p>\n"
            f"<table><tr><th>method</th><th>resource</th><th>API</th></tr>\n{rows}\n</table>\n"
            f"<p>Try <code>curl {self.base_url}/customers/{SEED_CUSTOMERS[0][0]}</code></p>\n</body></html>\n"
        )

    def _openapi(self, api: str) -> HttpResponse:
        if api not in self.apis:
            return _problem(HTTPStatus.NOT_FOUND, f"no API named {api}; known: {', '.join(self.apis)}")
        try:
            module = importlib.import_module(f"{api}.openapi")
        except ModuleNotFoundError:
            return _problem(HTTPStatus.NOT_FOUND, f"the {api} API publishes no OpenAPI document")
        document = json.loads(module.openapi_document())
        document["servers"] = [{"url": self.base_url, "description": "omni sandbox serve (local, moto)"}]
        return _respond(HTTPStatus.OK, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode(), JSON)

    # -- seeding -------------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None) -> HttpResponse:
        """One request through the same translation as HTTP requests (for seeding and tests)."""
        raw = b"" if body is None else json.dumps(body).encode()
        all_headers = {**({"Content-Type": JSON} if body is not None else {}), **(headers or {})}
        return self.handle(method, path, list(all_headers.items()), raw)

    def seed(self) -> list[str]:
        """A few customers through the profile API and an active rule set through the eligibility API."""
        done = []
        if "profiles" in self.apis:
            for customer_id, profile in SEED_CUSTOMERS:
                _expect(self.call("PUT", f"/customers/{customer_id}", profile), HTTPStatus.CREATED, HTTPStatus.OK)
            done.append(f"{len(SEED_CUSTOMERS)} customers")
        if "eligibility" in self.apis:
            path = f"/rule-sets/{SEED_RULE_SET_VERSION}"
            _expect(self.call("PUT", path, SEED_RULE_SET), HTTPStatus.CREATED, HTTPStatus.OK)
            _expect(self.call("PUT", f"{path}/activate"), HTTPStatus.OK, HTTPStatus.NO_CONTENT)
            done.append(f"rule set {SEED_RULE_SET_VERSION} (active)")
        return done


def proxy_response(response: Mapping[str, Any]) -> HttpResponse:
    """A Lambda proxy integration response as HTTP (multi-value headers win over single ones, as in API Gateway)."""
    headers: dict[str, list[str]] = {name: [str(value)] for name, value in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = [str(value) for value in values]
    body = response.get("body") or ""
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode()
    pairs = [(name, value) for name, values in headers.items() for value in values]
    return HttpResponse(int(response.get("statusCode", 502)), pairs, raw)


def _body_text(body: bytes) -> tuple[str | None, bool]:
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def _respond(status: int, body: bytes, content_type: str, extra: Iterable[tuple[str, str]] = ()) -> HttpResponse:
    return HttpResponse(int(status), [("Content-Type", content_type), *extra], body)


def _problem(status: HTTPStatus, detail: str, *, allow: Sequence[str] = ()) -> HttpResponse:
    body = {"type": "about:blank", "title": status.phrase, "status": int(status), "detail": detail}
    extra = [("Allow", ", ".join(sorted(set(allow))))] if allow else []
    return _respond(status, json.dumps(body).encode(), "application/problem+json", extra)


def _expect(response: HttpResponse, *statuses: int) -> None:
    if response.status not in statuses:
        raise ServeError(f"seeding failed: HTTP {response.status}: {response.body.decode(errors='replace')[:300]}")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- HTTP ------------------------------------------------------------------------------------------


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalApiServer
    protocol_version = "HTTP/1.1"

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            response = self.server.apis.handle(self.command, self.path, list(self.headers.items()), body)
        except Exception as error:  # noqa: BLE001 - a handler crash is a 502, as API Gateway reports it
            self.server.log(f"{self.command} {self.path}: handler failed: {type(error).__name__}: {error}")
            response = _problem(HTTPStatus.BAD_GATEWAY, f"the handler failed: {type(error).__name__}")
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def __getattr__(self, name: str) -> Any:
        # http.server looks up `do_<METHOD>` and answers 501 without one: every method (TRACE, QUERY, ...) is
        # routed instead, so an undeclared one on a known resource is a 405 with Allow, as for GET or PUT.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        self.server.log(format % args)


class LocalApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        apis: LocalApis,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        log: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__((host, port), _RequestHandler)
        self.apis = apis
        self.log = log or (lambda message: None)
        bound_host, bound_port = self.server_address[:2]
        apis.base_url = f"http://{bound_host!s}:{bound_port}"

    @property
    def url(self) -> str:
        return self.apis.base_url


@contextlib.contextmanager
def running(server: LocalApiServer) -> Iterator[LocalApiServer]:
    """Serve in a background thread for the duration of the block (tests)."""
    thread = threading.Thread(target=server.serve_forever, name="omni-sandbox-serve", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
