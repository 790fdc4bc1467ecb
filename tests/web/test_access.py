"""Every route of the app, taken from `app.routes` (so a new route cannot be forgotten), as anonymous, as a
customer on another customer's objects, and as a customer on the engineers' actions: each must refuse."""

from __future__ import annotations

import html
from contextlib import closing

import fastapi.routing
import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount

from tests.web.conftest import SITE_A, SITE_B, Lab, csrf_of, login

PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/t/{token}"), ("POST", "/t/{token}"), ("GET", "/static")}
CUSTOMER_MAY_POST = {"/login", "/logout", "/t/{token}",  # their own session only: nothing of the monitor changes
                     "/sites/{site}/report"}  # and a report of a problem at their own site (tests/web/test_reports.py)
REFUSED = {401, 403, 404}
QUERY = {"port": "Gi1/0/50"}  # values for required query parameters, by name


def routes(lab: Lab) -> list[tuple[str, str, APIRoute | None]]:
    """(method, path, route) of every route the app serves, included routers flattened."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)  # FastAPI >= 0.16x keeps included routers whole
    found = [(c.original_route, c.path, c.methods) for c in flatten(lab.app.routes)] if flatten else [
        (r, getattr(r, "path", ""), getattr(r, "methods", None)) for r in lab.app.routes]
    out = []
    for r, path, methods in found:
        if isinstance(r, Mount):
            out.append(("GET", path, None))
        elif isinstance(r, APIRoute):
            out += [(m, path, r) for m in sorted(set(methods or r.methods) - {"HEAD"})]
        else:  # a plain Starlette route would bypass everything the tests below know about
            raise TypeError(f"unexpected route type {type(r).__name__} at {path}")
    assert len(out) >= 20, out
    return out


def values(lab: Lab, owner: str) -> dict[str, str]:
    if owner == "a":
        return {"site": SITE_A, "device": "core-sw1", "ref": lab.ref_a, "commit": lab.commit_a, "token": "x" * 43,
                "seq": "1"}
    return {"site": SITE_B, "device": "gx-sw1", "ref": lab.ref_b, "commit": lab.commit_b, "token": "x" * 43,
            "seq": "1"}


def url(path: str, route: APIRoute | None, vals: dict[str, str]) -> str:
    if route is None:
        return path + "/style.css"
    out = path
    for p in route.dependant.path_params:
        assert p.name in vals, f"the access tests know no value for path parameter {p.name!r} of {path}"
        out = out.replace("{" + p.name + "}", vals[p.name])
    required = [q.name for q in route.dependant.query_params if q.field_info.is_required()]
    for name in required:
        assert name in QUERY, f"the access tests know no value for query parameter {name!r} of {path}"
    query = "&".join(f"{n}={QUERY[n]}" for n in required)
    if "site" in {q.name for q in route.dependant.query_params}:  # a route that selects by a site query
        query = "&".join(x for x in (query, f"site={vals['site']}") if x)
    return out + (f"?{query}" if query else "")


def leaks(body: str, owner: str) -> list[str]:
    words = ("FNS6639DE3E", "core-sw1", SITE_A) if owner == "a" else ("gx-sw1", SITE_B, "Globex", "globex")
    return [w for w in words if w in body]


def test_anonymous_is_refused_everywhere_but_the_login(lab: Lab) -> None:
    with httpx.Client(base_url=lab.url, follow_redirects=False, timeout=10) as c:
        for method, path, route in routes(lab):
            if (method, path) in PUBLIC:
                continue
            for owner in ("a", "b"):
                target = url(path, route, values(lab, owner))
                r = c.request(method, target)
                assert r.status_code in REFUSED, (method, target, r.status_code)
                body = r.text.replace(html.escape(target), "")  # the login form echoes the caller's own URL
                assert not leaks(body, owner), (method, target, leaks(body, owner))


def test_public_routes_give_nothing_away(lab: Lab) -> None:
    with httpx.Client(base_url=lab.url, follow_redirects=False, timeout=10) as c:
        assert c.get("/login").status_code == 200
        assert c.get("/t/" + "x" * 43).status_code == 404
        assert c.post("/login", data={"name": "alice", "password": "wrong"}).status_code == 403  # no CSRF token
        assert c.get("/static/style.css").status_code == 200
        assert c.get("/static/../monitor/web/app.py").status_code == 404


@pytest.mark.parametrize("how", ["session", "bearer"])
def test_customer_cannot_reach_another_customers_objects(lab: Lab, how: str) -> None:
    c = login(lab.url, "alice") if how == "session" else httpx.Client(
        base_url=lab.url, headers={"Authorization": f"Bearer {lab.token_a}"}, timeout=10)
    with closing(c):
        for method, path, route in routes(lab):
            if (method, path) in PUBLIC or (how == "bearer" and not path.startswith("/api/")):
                continue
            if path == "/logout":
                continue
            target = url(path, route, values(lab, "b"))
            data = {"csrf_token": csrf_of(c.get("/login").text)} if method == "POST" and how == "session" else None
            r = c.request(method, target, data=data)
            names_an_object = route is not None and (route.dependant.path_params or "site=" in target)
            if names_an_object:
                assert r.status_code in {403, 404}, (method, target, r.status_code)
            else:
                assert r.status_code in {200, 303}, (method, target, r.status_code)
            assert not leaks(r.text, "b"), (method, target, leaks(r.text, "b"))


def test_customer_cannot_act(lab: Lab) -> None:
    before = lab.store.incident(lab.ref_a)
    with closing(login(lab.url, "alice")) as c:
        csrf = csrf_of(c.get(f"/incidents/{lab.ref_a}").text)
        posts = [(m, p, r) for m, p, r in routes(lab) if m != "GET"]
        assert {p for _, p, _ in posts} - CUSTOMER_MAY_POST, "no engineer action found among the routes"
        for method, path, route in posts:
            if path in CUSTOMER_MAY_POST:
                continue
            r = c.request(method, url(path, route, values(lab, "a")),
                          data={"csrf_token": csrf, "text": "customer was here", "owner": "alice"})
            assert r.status_code == 403, (method, path, r.status_code)
        assert c.get(f"/incidents/{lab.ref_a}").status_code == 200  # still logged in, still reading
    after = lab.store.incident(lab.ref_a)
    assert before is not None and after is not None
    assert (after.notes, after.owner, after.acked_at, after.resolved_at) == (
        before.notes, before.owner, before.acked_at, before.resolved_at)


def test_only_get_routes_serve_customers(lab: Lab) -> None:
    """The one rule behind the matrix: apart from logging in and out, a customer route never changes anything."""
    writes = {p for m, p, _ in routes(lab) if m not in ("GET", "HEAD")}
    engineer_only = {p for p in writes if p.startswith("/incidents/")}
    assert writes == CUSTOMER_MAY_POST | engineer_only, writes


def test_revoked_link_and_disabled_user_end_their_sessions(lab: Lab) -> None:
    from monitor.web import accounts

    token, secret = accounts.add_token(lab.store.engine, "acme", SITE_A, "to revoke")
    with httpx.Client(base_url=lab.url, timeout=10) as c:
        r = c.get(f"/t/{secret}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/sites/{SITE_A}"
        assert c.get(f"/sites/{SITE_A}").status_code == 200
        assert c.get("/api/sites").json()[0]["name"] == SITE_A
        api = httpx.get(f"{lab.url}/api/sites", headers={"Authorization": f"Bearer {secret}"})
        assert api.status_code == 200
        accounts.revoke_token(lab.store.engine, token.id)
        assert c.get(f"/sites/{SITE_A}").status_code == 401
        assert httpx.get(f"{lab.url}/api/sites", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
        assert c.get(f"/t/{secret}").status_code == 404

    accounts.add_user(lab.store.engine, "carol", "customer", "carol-acme-pw1", customer="acme")
    from tests.web import conftest

    conftest.PASSWORDS["carol"] = "carol-acme-pw1"
    with closing(login(lab.url, "carol")) as c:
        assert c.get(f"/sites/{SITE_A}").status_code == 200
        accounts.set_disabled(lab.store.engine, "carol", True)
        assert c.get(f"/sites/{SITE_A}").status_code == 401


def test_openapi_is_published_to_logged_in_callers(lab: Lab) -> None:
    assert httpx.get(f"{lab.url}/api/openapi.json").status_code == 401
    spec = httpx.get(f"{lab.url}/api/openapi.json", headers={"Authorization": f"Bearer {lab.token_a}"}).json()
    paths = set(spec["paths"])
    assert {"/api/sites", "/api/sites/{site}", "/api/devices/{device}/ports", "/api/incidents/{ref}"} <= paths
    assert not any(p.startswith("/incidents") for p in paths)  # the pages and their forms are not the API
