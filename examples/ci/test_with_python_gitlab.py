#!/usr/bin/env python3
"""What a client test suite does against glmock in CI, with the real python-gitlab client.

    GITLAB_URL=http://glmock:8080/-/sessions/$CI_JOB_ID python3 test_with_python_gitlab.py

GITLAB_URL is glmock's address with a session prefix, so parallel jobs sharing one glmock
never see each other's changes. GITLAB_TOKEN defaults to the token of
examples/ci/scenarios/demo.yaml; GLMOCK_BASE_URL (when glmock has it too) is checked against
the web_url fields. Exits 1 when a check fails.
"""

import os
import sys

import gitlab
import requests

url = os.environ.get("GITLAB_URL", "http://glmock:8080/-/sessions/local").rstrip("/")
token = os.environ.get("GITLAB_TOKEN", "glpat-ci-bot")
base_url = os.environ.get("GLMOCK_BASE_URL")

gl = gitlab.Gitlab(url, private_token=token, timeout=10)
failures = 0


def check(what, ok):
    global failures
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    failures += 0 if ok else 1


project = gl.projects.get("demo/app")
check(f"project demo/app is id {project.id}", project.id == 42)

failed = project.jobs.list(scope="failed", get_all=True)
check(f"failed jobs: {[j.id for j in failed]}", [j.id for j in failed] == [5002])
trace = project.jobs.get(5002).trace().decode()
check("the failed job's log says FAILED", "FAILED" in trace)

retried = project.jobs.get(5002).retry()
check(f"retry -> new job {retried['id']} ({retried['status']})",
      retried["id"] != 5002 and retried["status"] == "pending")

pipeline = project.pipelines.create({"ref": "main"})
check(f"created pipeline {pipeline.id} ({pipeline.status})", pipeline.status in ("created", "pending"))
if base_url:
    check(f"web_url {pipeline.web_url} is on {base_url}", pipeline.web_url.startswith(base_url))

# The scenario's clock is frozen: move this session's clock instead of sleeping.
for _ in range(4):
    requests.post(f"{url}/-/glmock/clock/advance", params={"seconds": 5}, timeout=10).raise_for_status()
pipeline = project.pipelines.get(pipeline.id)
check(f"pipeline {pipeline.id} ran to {pipeline.status}", pipeline.status == "success")
jobs = {j.name: j.status for j in pipeline.jobs.list(get_all=True)}
check(f"its jobs: {jobs}", jobs == {"compile": "success", "unit": "success"})

print(f"{'all checks passed' if failures == 0 else f'{failures} check(s) failed'} against {url}")
sys.exit(1 if failures else 0)
