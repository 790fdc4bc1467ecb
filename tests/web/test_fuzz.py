"""A property-based fuzz of every route, from the app's own OpenAPI description (the pages included, which the
published description leaves out), as anonymous, customer, read-only link and engineer, against a real uvicorn
over a copy of the lab's store: no answer is a 5xx, every answer carries the security headers, and an anonymous
caller gets nothing but the public routes. Schemathesis draws the requests (Hypothesis underneath), with a
fixed seed, valid and invalid values, and a bounded number of examples so the run stays well under a minute."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import fastapi.routing
import pytest
import requests
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from monitor.state.store import Store
from tests.web.conftest import Lab, csrf_of, login, serving

schemathesis = pytest.importorskip("schemathesis")
GenerationMode = schemathesis.GenerationMode

EXAMPLES = 10  # per route and principal, valid and invalid: ~22 routes x 4 principals x 10 requests
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/t/{token}"), ("POST", "/t/{token}")}
SECURITY = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy")


def full_openapi(app: Any) -> dict[str, Any]:
    """The app's OpenAPI description with every route in it, the HTML pages and forms too."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    found = [(c.original_route, c.path, c.methods) for c in flatten(app.routes)] if flatten else [
        (r, getattr(r, "path", ""), getattr(r, "methods", None)) for r in app.routes]
    routes = [APIRoute(path, r.endpoint, methods=sorted(methods or r.methods), name=r.name)
              for r, path, methods in found if isinstance(r, APIRoute)]
    assert len(routes) >= 20, routes
    return get_openapi(title="Saksi (fuzz)", version="1", routes=routes)


@pytest.fixture(scope="module")
def target(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second server over a copy of the lab's store: the engineer's fuzzed actions change only the copy."""
    copy = tmp_path_factory.mktemp("fuzz") / "saksi.db"
    with closing(sqlite3.connect(make_url(lab.store.url).database or "")) as src, \
            closing(sqlite3.connect(copy)) as dst:
        src.backup(dst)
    store = Store(f"sqlite:///{copy}")
    try:
        with serving(store, lab.inventory, lab.app.state.web.settings) as (url, _):
            yield url
    finally:
        store.close()


def session_as(url: str, lab: Lab, who: str) -> tuple[requests.Session, str | None]:
    """A requests session (what schemathesis calls with) as `who`, and its CSRF token when it has one."""
    s = requests.Session()
    if who == "anonymous":
        return s, None
    if who == "link":
        r = s.get(f"{url}/t/{lab.token_a}", allow_redirects=False)
        assert r.status_code == 303
        return s, csrf_of(s.get(f"{url}/login").text)
    with closing(login(url, who)) as c:
        s.cookies.update(dict(c.cookies))
        return s, csrf_of(c.get("/login").text)


def header(response: Any, name: str) -> str | None:
    """One header of a schemathesis response (its headers map names to lists of values)."""
    for key, value in response.headers.items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list) else value)
    return None


def check(response: Any, method: str, template: str, who: str) -> None:
    where = (who, method, response.request.url, response.status_code)
    assert response.status_code < 500, where
    missing = [h for h in SECURITY if header(response, h) is None]
    assert not missing, (*where, missing)
    static = template.startswith("/static/") and response.status_code < 400
    assert static or header(response, "cache-control") == "no-store", where
    if template.startswith("/api/") and response.status_code >= 400:
        assert (header(response, "content-type") or "").startswith("application/json"), where
    if who == "anonymous" and (method, template) not in PUBLIC:
        assert response.status_code in (401, 403, 404, 405, 413, 422), where


def fuzz(op: Any, target: str, session: requests.Session, csrf: str | None, who: str) -> None:
    """Draw EXAMPLES requests for one operation (a fixed seed: the same ones every run) and check each answer."""
    method, template = op.method.upper(), op.path

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=st.one_of(op.as_strategy(GenerationMode.POSITIVE), op.as_strategy(GenerationMode.NEGATIVE)),
           real_csrf=st.booleans())
    def run(case: Any, real_csrf: bool) -> None:
        if csrf and real_csrf and isinstance(case.body, dict) and template != "/logout":
            case.body["csrf_token"] = csrf  # past the CSRF check, into the action itself
        response = case.call(base_url=target, session=session, allow_redirects=False, timeout=30)
        check(response, method, template, who)

    run()


@pytest.mark.parametrize("who", ["anonymous", "alice", "link", "erin"])
def test_every_route_survives_fuzzing(lab: Lab, target: str, who: str) -> None:
    schema = schemathesis.openapi.from_dict(full_openapi(lab.app))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for op in operations:
        session, csrf = session_as(target, lab, who)
        with session:
            fuzz(op, target, session, csrf, who)


def test_the_fuzz_description_covers_every_route(lab: Lab) -> None:
    spec = full_openapi(lab.app)
    paths = set(spec["paths"])
    assert {"/incidents/{ref}/ack", "/t/{token}", "/sites/{site}/config/{device}/{commit}.diff",
            "/api/incidents/{ref}", "/login"} <= paths


def test_static_files_are_fuzzed_too(lab: Lab, target: str) -> None:
    """The one route outside the description: a mount of files."""
    with requests.Session() as s:
        for name in ("style.css", "../app.py", "%2e%2e/app.py", "x" * 300, "style.css/..", "%00"):
            r = s.get(f"{target}/static/{name}", allow_redirects=False, timeout=30)
            assert r.status_code in (200, 404), (name, r.status_code)
            assert all(h in r.headers for h in SECURITY), name
