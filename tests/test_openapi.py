"""server/openapi.json describes exactly the routes the app serves, and the real answers fit it."""
from __future__ import annotations

import json
import re

import pytest

from server.api import openapi_path
from tests.support.serve import app, client, paired  # noqa: F401
from tests.test_api import seeded  # noqa: F401

IGNORED_METHODS = {"HEAD", "OPTIONS"}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
PUBLIC = {("/api/health", "get"), ("/api/pair", "post")}


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(openapi_path().read_text(encoding="utf-8"))


def app_routes(application) -> set[tuple[str, str]]:
    """(path in OpenAPI form, method) for every rule of the app: <int:x> -> {x}."""
    routes = set()
    for rule in application.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - IGNORED_METHODS:
            routes.add((path, method.lower()))
    return routes


def documented_routes(document) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() for method in item
            if method in HTTP_METHODS}


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_is_openapi_3_1_with_a_bearer_scheme(document):
    assert document["openapi"].startswith("3.1.")
    assert document["components"]["securitySchemes"]["bearer"] == {
        **document["components"]["securitySchemes"]["bearer"], "type": "http", "scheme": "bearer"}
    assert document["security"] == [{"bearer": []}]


def test_every_route_is_documented(app, document):
    assert app_routes(app) - documented_routes(document) == set()


def test_every_documented_route_exists(app, document):
    assert documented_routes(document) - app_routes(app) == set()


def test_only_health_and_pair_are_public(document):
    public = {(path, method) for path, method, op in operations(document) if op.get("security") == []}
    assert public == PUBLIC


def test_path_parameters_are_declared(document):
    for path, method, operation in operations(document):
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), (path, method)


def test_every_operation_documents_its_errors(document):
    for path, method, operation in operations(document):
        codes = set(operation["responses"])
        assert any(code.startswith("2") for code in codes), (path, method)
        assert "403" in codes, (path, method)  # Host and Origin checks apply to every route
        if (path, method) not in PUBLIC:
            assert "401" in codes, (path, method)
        if "requestBody" in operation:
            assert {"400", "415", "413"} <= codes, (path, method)


def test_every_reference_resolves(document):
    text = json.dumps(document)
    for ref in re.findall(r'"\$ref": "#/([^"]+)"', text):
        node = document
        for part in ref.split("/"):
            node = node[part]


def resolve(document, schema):
    while "$ref" in schema:
        node = document
        for part in schema["$ref"][2:].split("/"):
            node = node[part]
        schema = node
    return schema


def test_real_answers_carry_the_required_fields(seeded, document):
    schemas = document["components"]["schemas"]
    listing = seeded.get("/api/applications").get_json()
    assert set(schemas["ApplicationList"]["required"]) <= set(listing)
    assert set(schemas["SyncSummary"]["required"]) <= set(listing["sync"])
    assert listing["applications"]
    for item in listing["applications"]:
        assert set(schemas["Application"]["required"]) <= set(item)
        assert item["flag"] in schemas["Application"]["properties"]["flag"]["enum"]
    detail = seeded.get(f"/api/applications/{listing['applications'][0]['id']}").get_json()["application"]
    for entry in detail["timeline"]:
        assert set(schemas["TimelineEntry"]["required"]) <= set(entry)
    assert set(schemas["SyncStatus"]["required"]) == set(seeded.get("/api/sync").get_json())
    error = seeded.get("/api/applications/nope").get_json()
    assert set(error) == set(schemas["Error"]["required"])
