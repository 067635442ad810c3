#!/usr/bin/env python3
"""Smoke test: python-gitlab's own retry logic against glmock's fault rules.

    python python_gitlab_faults.py http://127.0.0.1:PORT

The server must serve fixtures/examples/showcase.yaml (tests/smoke/run.sh starts it). Each
step resets its own session, adds fault rules there with POST /-/glmock/faults, drives
python-gitlab, and proves from the journal (GET /-/glmock/journal) what the client sent:
that it retried and then succeeded, or gave up where its documentation says it does
(`max_retries`, default 10; 429 is retried honouring Retry-After even without
`retry_transient_errors`; 500/502/503/504 and dropped connections only with it).

Prints one line per step and a closing `N passed, N failed` line; exits 1 if any failed.
"""

from __future__ import annotations

import sys
import time
import traceback
from typing import Any, Callable

import gitlab
import gitlab.exceptions as glexc
import requests

ALICE = "glpat-alice"  # owner of group/project (id 10) in showcase.yaml
PROJECT_ID = 10

results: list[tuple[str, bool]] = []


def step(name: str) -> Callable[[Callable[[], Any]], None]:
    def run(fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - every failure is reported, the rest still runs
            results.append((name, False))
            print(f"FAIL {name}")
            traceback.print_exc()
        else:
            results.append((name, True))
            print(f"ok   {name}")

    return run


def eq(actual: Any, expected: Any, what: str) -> None:
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


class Session:
    """One glmock session: its rules, its journal and a python-gitlab client inside it."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.name = url, name
        r = requests.post(f"{url}/-/glmock/reset", params={"session": name}, timeout=10)
        r.raise_for_status()

    def faults(self, rules: Any) -> None:
        r = requests.post(
            f"{self.url}/-/glmock/faults", params={"session": self.name}, json=rules, timeout=10
        )
        eq(r.status_code, 201, f"adding rules: {r.text}")

    def client(self, **kwargs: Any) -> gitlab.Gitlab:
        return gitlab.Gitlab(f"{self.url}/-/sessions/{self.name}", private_token=ALICE, keep_base_url=True, **kwargs)

    def statuses(self, path: str) -> list[tuple[int, list[str]]]:
        r = requests.get(
            f"{self.url}/-/glmock/journal",
            params={"session": self.name, "path": f"/api/v4{path}"},
            timeout=10,
        )
        r.raise_for_status()
        return [(e["status"], e.get("faults", [])) for e in r.json()["entries"]]


def main() -> int:
    url = sys.argv[1].rstrip("/")
    print(f"::: python-gitlab {gitlab.__version__} against {url} (faults)")
    jobs = f"/projects/{PROJECT_ID}/jobs"

    @step("retry_transient_errors: two 502 pages, then the jobs list")
    def _() -> None:
        s = Session(url, "py-faults-502")
        s.faults({"id": "bad-gateway", "match": {"route": "/projects/:id/jobs"},
                  "when": {"times": 2}, "then": {"status": 502}})
        gl = s.client(retry_transient_errors=True)
        listed = gl.projects.get(PROJECT_ID, lazy=True).jobs.list(get_all=False)
        eq(len(listed), 20, "jobs on the first page")
        eq(s.statuses(jobs), [(502, ["bad-gateway"]), (502, ["bad-gateway"]), (200, [])], "journal")

    @step("a Rack::Attack 429 is retried after Retry-After, without retry_transient_errors")
    def _() -> None:
        s = Session(url, "py-faults-429")
        s.faults({"id": "throttled", "match": {"route": "/projects/:id"}, "when": {"times": 1},
                  "then": {"throttle": {"period_in_seconds": 1}}})
        gl = s.client()
        started = time.monotonic()
        project = gl.projects.get(PROJECT_ID)
        waited = time.monotonic() - started
        eq(project.path_with_namespace, "group/project", "project")
        eq(s.statuses(f"/projects/{PROJECT_ID}"), [(429, ["throttled"]), (200, [])], "journal")
        # Retry-After is 1 (a 1 s period): the client slept it before retrying.
        if waited < 0.9:
            raise AssertionError(f"retried after {waited:.2f} s, before Retry-After (1 s)")

    @step("a reset connection is retried with retry_transient_errors")
    def _() -> None:
        s = Session(url, "py-faults-reset")
        s.faults({"id": "rst", "match": {"route": "/user"}, "when": {"times": 1}, "then": "reset"})
        gl = s.client(retry_transient_errors=True)
        gl.auth()
        eq(gl.user.username, "alice", "user")
        eq(s.statuses("/user"), [(0, ["rst"]), (200, [])], "journal (0: no response)")

    @step("without retry_transient_errors a 500 fails at once")
    def _() -> None:
        s = Session(url, "py-faults-500")
        s.faults({"id": "boom", "match": {"route": "/projects/:id/jobs"}, "then": {"status": 500}})
        gl = s.client()
        try:
            gl.projects.get(PROJECT_ID, lazy=True).jobs.list(get_all=False)
        except glexc.GitlabListError as e:
            eq(e.response_code, 500, "status")
        else:
            raise AssertionError("no error raised")
        eq(s.statuses(jobs), [(500, ["boom"])], "journal: one request, no retry")

    @step("max_retries=2: a 503 that lasts is tried three times, then raised")
    def _() -> None:
        s = Session(url, "py-faults-503")
        s.faults({"id": "down", "match": {"route": "/projects/:id"}, "then": {"status": 503}})
        gl = s.client(retry_transient_errors=True)
        try:
            gl.http_get(f"/projects/{PROJECT_ID}", max_retries=2)
        except glexc.GitlabHttpError as e:
            eq(e.response_code, 503, "status")
        else:
            raise AssertionError("no error raised")
        eq(s.statuses(f"/projects/{PROJECT_ID}"), [(503, ["down"])] * 3, "journal")

    passed = sum(ok for _, ok in results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
