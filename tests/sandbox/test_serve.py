"""`omni sandbox serve`: HTTP requests become real API Gateway proxy events for the real handlers, and back."""

from __future__ import annotations

import argparse
import http.client
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from omni_cli.sandbox import register_serve
from sandbox.platform import local_platform
from sandbox.serve import (
    SEED_CUSTOMERS,
    LocalApis,
    LocalApiServer,
    api_routes,
    proxy_response,
    resource_pattern,
    running,
)
from sandbox.templates import CloudAssembly

CUSTOMER_ID = "gc-00112233445566778899"


def _request(
    url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310 - loopback only
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_put_then_get_round_trip_over_http(dev_templates: CloudAssembly) -> None:
    # Given the platform in moto, served on an ephemeral loopback port, seeded
    with local_platform(templates=dev_templates) as platform:
        apis = LocalApis(platform)
        assert apis.seed() == ["3 customers", "rule set sandbox-1 (active)"]
        with running(LocalApiServer(apis, "127.0.0.1", 0)) as server:
            # When a customer is created with PUT and read back with GET
            profile = {
                "first_name": "Mary",
                "last_name": "Somerville",
                "email": "Mary@Example.com",
                "phone": "07700 900999",
            }
            status, headers, created = _request(f"{server.url}/customers/{CUSTOMER_ID}", "PUT", profile)
            assert status == 201, created
            status, headers, read = _request(f"{server.url}/customers/{CUSTOMER_ID}")

            # Then the profile handler answered through the proxy translation both ways
            assert status == 200, read
            assert read["customer_id"] == CUSTOMER_ID
            assert read["attributes"]["email"] == "mary@example.com"
            assert headers["ETag"] == '"1"'

            # and a seeded customer, the eligibility API and the OpenAPI documents are there too
            status, _, seeded = _request(f"{server.url}/customers/{SEED_CUSTOMERS[0][0]}")
            assert (status, seeded["attributes"]["first_name"]) == (200, "Ada")
            status, _, decision = _request(
                f"{server.url}/customers/{CUSTOMER_ID}/eligibility", "POST", {"product": "broadband"}
            )
            assert status == 200, decision
            assert decision["rule_set_version"] == "sandbox-1"
            status, _, document = _request(f"{server.url}/openapi/profiles.json")
            assert status == 200
            assert document["servers"] == [{"url": server.url, "description": "omni sandbox serve (local, moto)"}]
            assert "/customers/{customer_id}" in document["paths"]
            status, _, _ = _request(f"{server.url}/openapi/eligibility.json")
            assert status == 200


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_any_other_method_on_a_resource_is_a_405_with_allow(dev_templates: CloudAssembly) -> None:
    # http.server answers 501 to a method it has no do_ handler for; the sandbox routes every method instead
    with (
        local_platform(templates=dev_templates) as platform,
        running(LocalApiServer(LocalApis(platform), "127.0.0.1", 0)) as server,
    ):
        answers = {}
        for method in ("TRACE", "QUERY", "OPTIONS"):
            connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
            connection.request(method, f"/customers/{CUSTOMER_ID}")
            response = connection.getresponse()
            answers[method] = (response.status, response.getheader("Allow"), response.getheader("Content-Type"))
            response.read()
            connection.close()
    assert set(answers.values()) == {(405, "DELETE, GET, PATCH, PUT", "application/problem+json")}


def test_a_request_becomes_the_proxy_event_api_gateway_sends(dev_templates: CloudAssembly) -> None:
    with local_platform(templates=dev_templates) as platform:
        apis = LocalApis(platform)
        route = next(r for r in apis.routes if (r.method, r.resource) == ("GET", "/customers"))
        event = apis.event(
            route,
            "/customers",
            parameters={},
            query="email=a%40example.com&tag=x&tag=y",
            headers=[("Accept", "application/json"), ("X-Trace", "1")],
            body=b"",
        )
    assert event["resource"] == event["requestContext"]["resourcePath"] == "/customers"
    assert event["httpMethod"] == "GET"
    assert event["queryStringParameters"]["email"] == "a@example.com"
    assert event["multiValueQueryStringParameters"]["tag"] == ["x", "y"]
    assert event["multiValueHeaders"]["X-Trace"] == ["1"]
    assert event["requestContext"]["identity"]["userArn"].startswith("arn:aws:iam::")
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_routes_and_handlers_come_from_the_templates(dev_templates: CloudAssembly) -> None:
    with local_platform(templates=dev_templates) as platform:
        routes = {(r.method, r.resource): r.handler for r in api_routes(platform)}
    assert routes[("PUT", "/customers/{customer_id}")] == "profiles.handler.lambda_handler"
    assert routes[("POST", "/customers/{customer_id}/eligibility")] == "eligibility.handler.lambda_handler"
    assert routes[("PUT", "/rule-sets/{version}/activate")] == "eligibility.handler.lambda_handler"


def test_unknown_paths_and_methods_are_problems(dev_templates: CloudAssembly) -> None:
    with local_platform(templates=dev_templates) as platform:
        apis = LocalApis(platform)
        missing = apis.handle("GET", "/nowhere", [], b"")
        wrong = apis.handle("POST", f"/customers/{CUSTOMER_ID}", [], b"{}")
    assert missing.status == 404
    assert wrong.status == 405
    assert ("Allow", "DELETE, GET, PATCH, PUT") in wrong.headers


def test_resource_patterns_match_one_segment_per_parameter() -> None:
    pattern = resource_pattern("/customers/{customer_id}/consent")
    assert pattern.fullmatch("/customers/gc-1/consent")
    assert not pattern.fullmatch("/customers/gc-1/x/consent")
    assert resource_pattern("/files/{path+}").fullmatch("/files/a/b/c")
    assert resource_pattern("/").fullmatch("/")


def test_proxy_responses_prefer_multi_value_headers_and_decode_base64() -> None:
    response = proxy_response(
        {
            "statusCode": 200,
            "headers": {"A": "1", "B": "2"},
            "multiValueHeaders": {"A": ["x", "y"]},
            "body": "aGk=",
            "isBase64Encoded": True,
        }
    )
    assert response.headers == [("A", "x"), ("A", "y"), ("B", "2")]
    assert response.body == b"hi"


def test_register_serve_adds_the_subcommand() -> None:
    parser = argparse.ArgumentParser()
    register_serve(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "--port", "9000", "--no-seed"])
    assert (args.command, args.port, args.no_seed, args.env, args.maturity) == ("serve", 9000, True, "dev", 5)
