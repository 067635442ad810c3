#!/usr/bin/env python3
"""Smoke test: drive glmock with the real python-gitlab client.

    python python_gitlab_smoke.py http://127.0.0.1:PORT

The server must serve fixtures/examples/showcase.yaml, freshly started (tests/smoke/run.sh
does both). Every expected value below comes from that scenario: project `group/project`
(id 10), pipelines 101-106, users alice (owner), bob (developer), rita (reporter), runner 40
(graceful cancel) and 41 (plain), job tokens glcbt-showcase-1203 / -1302.

Read-only steps use the default session (the plain URL). Mutating steps use the session
`smoke` (base URL + /-/sessions/smoke), and the default session is checked afterwards to
still show the scenario's original state.

Prints one line per step and a closing `N passed, N failed` line; exits 1 if any failed.
"""

from __future__ import annotations

import sys
import traceback
import warnings
from typing import Any, Callable

import gitlab
import gitlab.exceptions as glexc

# python-gitlab warns (UserWarning) when it silently gets only one page, or when a Link
# header points at another base URL: both would be glmock bugs, so make them errors.
warnings.simplefilter("error", UserWarning)

# --- what the showcase scenario holds --------------------------------------------------

# gitlab.base_url of the scenario (not set, so glmock's default): used in web_url fields.
SCENARIO_WEB_URL = "https://gitlab.example.com"

PROJECT_ID = 10
PROJECT_PATH = "group/project"

ALICE = "glpat-alice"  # owner
ALICE_READ = "glpat-alice-read"  # read_api scope only
BOB_EXPIRED = "glpat-bob-expired"
BOB_REVOKED = "glpat-bob-revoked"
RITA = "glpat-rita"  # reporter
JOB_TOKEN_1203 = "glcbt-showcase-1203"

# Builds (not bridges) per pipeline, retried ones included. Pipeline 105 has no jobs;
# bridge 1213 of pipeline 103 is not a build.
BUILDS = {
    101: list(range(1001, 1014)),  # 13, 1004 retried (as 1013)
    102: list(range(1101, 1112)),  # 11
    103: list(range(1201, 1213)),  # 12 (+ bridge 1213)
    104: list(range(1301, 1305)),  # 4
    106: list(range(1401, 1410)),  # 9, 1402 and 1406 retried
}
ALL_BUILDS_DESC = sorted((i for ids in BUILDS.values() for i in ids), reverse=True)
assert len(ALL_BUILDS_DESC) == 49
MAX_JOB_ID = 1409  # the highest job id of the scenario (builds and bridges)

RUNNING = [1302, 1205, 1204, 1203]  # project-wide, newest first
FAILED_OR_CANCELED = [1407, 1406, 1405, 1404, 1402, 1008, 1004]

PIPELINE_101_LATEST = sorted(set(BUILDS[101]) - {1004})
PIPELINE_106_LATEST = [1401, 1403, 1404, 1405, 1407, 1408, 1409]
PIPELINE_106_RETRIED = [1402, 1406]

# The inline log of job 1001 (compile, pipeline 101), exactly as the YAML block scalar reads.
LOG_1001 = b"""\
Running with gitlab-runner 17.11.3 (0f4a1b2c)
  on docker-legacy s_6c1d2e9a0f55
Preparing the "docker" executor
Using docker image ruby:3.3 ...
Getting source from Git repository
Fetching changes with git depth set to 20...
Checking out d62d6520 as detached HEAD (ref is main)...
Executing "step_script" stage of the job script
$ bundle install --jobs 4
Bundle complete! 84 Gemfile dependencies, 211 gems now installed.
$ bundle exec rake assets:precompile
Compiled all assets in 61.3s
Uploading artifacts for successful job
Uploading artifacts...
public/assets: found 312 matching artifact files and directories
Job succeeded
"""

# --- a tiny step runner ------------------------------------------------------------------

RESULTS: list[tuple[str, bool]] = []


def step(name: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Runs the function at once as one step; prints `ok` or `FAIL` and goes on."""

    def run(fn: Callable[[], Any]) -> Callable[[], Any]:
        n = len(RESULTS) + 1
        try:
            detail = fn()
        except Exception as e:  # noqa: BLE001 - a smoke test reports everything
            RESULTS.append((name, False))
            print(f"FAIL {n:2} {name}: {type(e).__name__}: {e}", flush=True)
            tb = traceback.format_exc().rstrip().splitlines()
            for line in tb[-6:]:
                print(f"        {line}", flush=True)
        else:
            RESULTS.append((name, True))
            suffix = f" — {detail}" if detail else ""
            print(f"ok   {n:2} {name}{suffix}", flush=True)
        return fn

    return run


def eq(actual: Any, expected: Any, what: str = "value") -> None:
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def raises(
    cls: type[glexc.GitlabError], code: int, fn: Callable[[], Any], message: str | None = None
) -> glexc.GitlabError:
    """Asserts that fn raises exactly `cls` (not a subclass of it that python-gitlab uses
    for something else) with `response_code == code`, and `message` in its text."""
    try:
        fn()
    except glexc.GitlabError as e:
        if type(e) is not cls:
            raise AssertionError(f"expected {cls.__name__}, got {type(e).__name__}: {e}")
        eq(e.response_code, code, f"{cls.__name__}.response_code")
        if message is not None and message not in str(e.error_message):
            raise AssertionError(f"expected {message!r} in the message, got {e.error_message!r}")
        return e
    raise AssertionError(f"expected {cls.__name__} ({code}), but the call succeeded")


def ids(objs: Any) -> list[int]:
    return [o.id for o in objs]


def auth(client: gitlab.Gitlab) -> None:
    """`client.auth()`, tolerating only python-gitlab's external-URL warning.

    GLMOCK NOTE: after GET /user, python-gitlab checks that the user's `web_url` starts
    with the client's base URL and warns otherwise. glmock renders web_url from the
    scenario's gitlab.base_url (https://gitlab.example.com by default), not from the URL
    it serves on (127.0.0.1:PORT, picked at start), so the check always warns here.
    Real GitLab, reached at its external_url, would not. Every other UserWarning (one
    page only, a Link header with another base URL) still fails the step."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=r"The base URL in the server response differs",
            category=UserWarning,
        )
        client.auth()


# --- the test ----------------------------------------------------------------------------


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    url = sys.argv[1].rstrip("/")
    smoke_url = f"{url}/-/sessions/smoke"
    print(f"python-gitlab {gitlab.__version__} against {url}", flush=True)

    gl = gitlab.Gitlab(url, private_token=ALICE, timeout=10)
    ctx: dict[str, Any] = {}

    # ---------------- read-only, default session ----------------

    @step("gl.auth(): GET /user as alice")
    def _() -> str:
        auth(gl)
        assert gl.user is not None
        eq(gl.user.username, "alice", "username")
        eq(gl.user.id, 101, "user id")
        eq(gl.user.name, "Alice Liddell", "name")
        eq(gl.user.web_url, f"{SCENARIO_WEB_URL}/alice", "web_url")
        return f"user {gl.user.id} {gl.user.username}"

    @step("gl.projects.get('group/project')")
    def _() -> str:
        project = gl.projects.get(PROJECT_PATH)
        eq(project.id, PROJECT_ID, "project id")
        eq(project.path_with_namespace, PROJECT_PATH, "path_with_namespace")
        eq(project.default_branch, "main", "default_branch")
        ctx["project"] = project
        return f"project {project.id} {project.path_with_namespace}"

    project = ctx["project"] if "project" in ctx else gl.projects.get(PROJECT_ID, lazy=True)

    @step("project.jobs.list(get_all=False): one page of 20, newest first")
    def _() -> str:
        page = project.jobs.list(get_all=False)
        eq(ids(page), ALL_BUILDS_DESC[:20], "ids of page 1")
        return f"{len(page)} jobs, {page[0].id}..{page[-1].id}"

    @step("project.jobs.list(iterator=True): pagination headers of page 1")
    def _() -> str:
        lst = project.jobs.list(iterator=True)
        eq(lst.current_page, 1, "X-Page")
        eq(lst.per_page, 20, "X-Per-Page")
        eq(lst.next_page, 2, "X-Next-Page")
        eq(lst.prev_page, None, "X-Prev-Page")
        # GitLab >= 17.0 does not count project jobs: no X-Total / X-Total-Pages.
        eq(lst.total, None, "X-Total")
        eq(lst.total_pages, None, "X-Total-Pages")
        return "X-Page 1, X-Per-Page 20, X-Next-Page 2, no X-Total"

    @step("project.jobs.list(get_all=True): every build, following Link rel=next")
    def _() -> str:
        jobs = project.jobs.list(get_all=True)
        eq(len(jobs), 49, "number of builds")
        eq(ids(jobs), ALL_BUILDS_DESC, "ids")
        return f"{len(jobs)} builds (3 pages), retried included, bridge 1213 excluded"

    @step("project.jobs.list(iterator=True, pagination='keyset', per_page=5)")
    def _() -> str:
        it = project.jobs.list(iterator=True, pagination="keyset", per_page=5)
        got = ids(it)
        eq(got, ALL_BUILDS_DESC, "keyset ids")
        return f"{len(got)} builds in 10 keyset pages, same ids and order"

    @step("project.jobs.list(scope='running')")
    def _() -> str:
        jobs = project.jobs.list(scope="running", get_all=True)
        eq(ids(jobs), RUNNING, "running ids")
        eq({j.status for j in jobs}, {"running"}, "statuses")
        return f"{ids(jobs)}"

    @step("project.jobs.list(scope=['failed', 'canceled'])")
    def _() -> str:
        jobs = project.jobs.list(scope=["failed", "canceled"], get_all=True)
        eq(ids(jobs), FAILED_OR_CANCELED, "failed/canceled ids")
        eq([j.status for j in jobs], ["failed"] * 2 + ["canceled"] + ["failed"] * 4, "statuses")
        return f"{ids(jobs)}"

    @step("project.jobs.get(1203): a running job")
    def _() -> str:
        job = project.jobs.get(1203)
        eq(job.id, 1203, "id")
        eq(job.name, "rspec 1/2", "name")
        eq(job.stage, "test", "stage")
        eq(job.status, "running", "status")
        eq(job.ref, "main", "ref")
        eq(job.tag, False, "tag")
        eq(job.pipeline["id"], 103, "pipeline.id")
        eq(job.pipeline["project_id"], PROJECT_ID, "pipeline.project_id")
        eq(job.runner["id"], 40, "runner.id")
        eq(job.tag_list, ["kubernetes"], "tag_list")
        eq(job.started_at, "2025-06-02T09:51:45.000Z", "started_at")
        eq(job.finished_at, None, "finished_at")
        return f"{job.name} {job.status} on runner {job.runner['id']}"

    @step("project.jobs.get(1001).trace(): the scenario's inline log")
    def _() -> str:
        job = project.jobs.get(1001)
        eq(job.status, "success", "status")
        # (`job.artifacts` is python-gitlab's download method; the field is in .attributes)
        eq(len(job.attributes["artifacts"]), 3, "number of artifacts")
        eq(job.artifacts_file, {"filename": "artifacts.zip", "size": 4821337}, "artifacts_file")
        log = job.trace()
        eq(type(log), bytes, "trace type")
        eq(log, LOG_1001, "trace")
        return f"{len(log)} bytes, {len(log.splitlines())} lines"

    @step("project.jobs.get(1002).trace(): a job without a log is empty")
    def _() -> str:
        eq(project.jobs.get(1002, lazy=True).trace(), b"", "trace")
        return "b''"

    @step("pipeline 101 jobs: latest only / include_retried=True")
    def _() -> str:
        pipeline = project.pipelines.get(101, lazy=True)
        latest = pipeline.jobs.list(get_all=True)
        eq(sorted(ids(latest)), PIPELINE_101_LATEST, "latest jobs")
        every = pipeline.jobs.list(get_all=True, include_retried=True)
        eq(sorted(ids(every)), BUILDS[101], "jobs with retried")
        return f"{len(latest)} latest, {len(every)} with retried (1004 hidden by default)"

    @step("pipeline 103 jobs with scope=['running', 'pending']")
    def _() -> str:
        pipeline = project.pipelines.get(103, lazy=True)
        jobs = pipeline.jobs.list(scope=["running", "pending"], get_all=True)
        eq(sorted(ids(jobs)), [1203, 1204, 1205, 1206], "ids")
        return f"{sorted(ids(jobs))} (bridge 1213 is not a job here)"

    @step("pipeline 103 bridges")
    def _() -> str:
        pipeline = project.pipelines.get(103, lazy=True)
        bridges = pipeline.bridges.list(get_all=True)
        eq(ids(bridges), [1213], "bridge ids")
        b = bridges[0]
        eq(b.name, "trigger:docs", "name")
        eq(b.status, "running", "status")
        eq(b.downstream_pipeline["id"], 104, "downstream_pipeline.id")
        eq(pipeline.bridges.list(scope="success", get_all=True), [], "scope=success")
        # For bridges python-gitlab sends a list as repeated plain keys (scope=a&scope=b),
        # which Rack parses as the last value only, so GitLab filters on the last scope.
        eq(ids(pipeline.bridges.list(scope=["failed", "running"], get_all=True)), [1213],
           "scope=[failed, running] (= running)")
        eq(ids(pipeline.bridges.list(scope=["running", "failed"], get_all=True)), [],
           "scope=[running, failed] (= failed)")
        return f"{b.name} -> pipeline {b.downstream_pipeline['id']}"

    @step("job token: Gitlab(job_token=...).http_get('/job')")
    def _() -> str:
        gj = gitlab.Gitlab(url, job_token=JOB_TOKEN_1203, timeout=10)
        job = gj.http_get("/job")
        assert isinstance(job, dict)
        eq(job["id"], 1203, "id")
        eq(job["status"], "running", "status")
        eq(job["name"], "rspec 1/2", "name")
        eq(job["pipeline"]["id"], 103, "pipeline.id")
        # The same through ?job_token= on an unauthenticated client.
        anon = gitlab.Gitlab(url, timeout=10)
        job2 = anon.http_get("/job", query_data={"job_token": JOB_TOKEN_1203})
        assert isinstance(job2, dict)
        eq(job2["id"], 1203, "id via ?job_token=")
        return f"job {job['id']} {job['status']}"

    @step("errors: a missing job is GitlabGetError 404")
    def _() -> str:
        e = raises(glexc.GitlabGetError, 404, lambda: project.jobs.get(999999), "404 Not found")
        raises(glexc.GitlabGetError, 404, lambda: project.jobs.get(999999, lazy=True).trace())
        # A bridge is not a build: GET /jobs/:id does not find it.
        raises(glexc.GitlabGetError, 404, lambda: project.jobs.get(1213))
        return f"{e}"

    @step("errors: bad, expired and revoked tokens are GitlabAuthenticationError 401")
    def _() -> str:
        for token in ("glpat-no-such-token", BOB_EXPIRED, BOB_REVOKED):
            bad = gitlab.Gitlab(url, private_token=token, timeout=10)
            raises(glexc.GitlabAuthenticationError, 401, bad.auth)
        bad = gitlab.Gitlab(url, private_token="glpat-no-such-token", timeout=10)
        e = raises(glexc.GitlabAuthenticationError, 401,
                   lambda: bad.projects.get(PROJECT_ID, lazy=True).jobs.list(get_all=False),
                   "401 Unauthorized")
        badjob = gitlab.Gitlab(url, job_token="glcbt-no-such-token", timeout=10)
        raises(glexc.GitlabAuthenticationError, 401, lambda: badjob.http_get("/job"))
        return f"{e}"

    # ---------------- mutations, session `smoke` ----------------

    gs = gitlab.Gitlab(smoke_url, private_token=ALICE, timeout=10)
    ps = gs.projects.get(PROJECT_ID, lazy=True)

    @step("session smoke: same scenario at /-/sessions/smoke")
    def _() -> str:
        auth(gs)
        assert gs.user is not None
        eq(gs.user.username, "alice", "username")
        p = gs.projects.get(PROJECT_PATH)
        eq(p.id, PROJECT_ID, "project id")
        jobs = ps.jobs.list(get_all=True)  # Link URLs must keep the session prefix
        eq(ids(jobs), ALL_BUILDS_DESC, "ids")
        return f"{len(jobs)} builds"

    @step("cancel 1203 (runner 40, graceful): canceling")
    def _() -> str:
        job = ps.jobs.get(1203)
        res = job.cancel()
        eq(res["id"], 1203, "id")
        eq(res["status"], "canceling", "status in the answer")
        eq(ps.jobs.get(1203).status, "canceling", "status afterwards")
        return "running -> canceling"

    @step("cancel 1204 (runner 41, no graceful cancel): canceled")
    def _() -> str:
        res = ps.jobs.get(1204, lazy=True).cancel()
        eq(res["id"], 1204, "id")
        eq(res["status"], "canceled", "status in the answer")
        after = ps.jobs.get(1204)
        eq(after.status, "canceled", "status afterwards")
        assert after.finished_at is not None, "finished_at is set"
        return "running -> canceled"

    @step("retry 1407 (failed rspec, pipeline 106): a new pending job")
    def _() -> str:
        res = ps.jobs.get(1407).retry()
        new_id = res["id"]
        ctx["retried_new_id"] = new_id
        assert new_id != 1407, "the retry has a new id"
        assert new_id > MAX_JOB_ID, f"the new id {new_id} is above every scenario id"
        eq(res["status"], "pending", "status")
        eq(res["name"], "rspec", "name")
        eq(res["stage"], "test", "stage")
        eq(res["pipeline"]["id"], 106, "pipeline.id")
        eq(res["user"]["username"], "alice", "user")
        new = ps.jobs.get(new_id)
        eq(new.status, "pending", "status of GET /jobs/:new_id")
        eq(ps.jobs.get(1407).status, "failed", "status of the original")
        return f"1407 -> {new_id} pending"

    @step("pipeline 106 jobs after the retry: without/with include_retried=True")
    def _() -> str:
        new_id = ctx["retried_new_id"]
        pipeline = ps.pipelines.get(106, lazy=True)
        latest = pipeline.jobs.list(get_all=True)
        want_latest = sorted(set(PIPELINE_106_LATEST) - {1407} | {new_id})
        eq(sorted(ids(latest)), want_latest, "latest jobs")
        # deploy:review (skipped, later stage) is reset to created by the retry.
        eq({j.id: j.status for j in latest}[1408], "created", "status of 1408 (was skipped)")
        every = pipeline.jobs.list(get_all=True, include_retried=True)
        want_every = sorted(want_latest + PIPELINE_106_RETRIED + [1407])
        eq(sorted(ids(every)), want_every, "jobs with retried")
        return f"{len(latest)} latest (1407 replaced by {new_id}), {len(every)} with retried"

    @step("project jobs after the retry: 50 builds, the new one first")
    def _() -> str:
        jobs = ps.jobs.list(get_all=True)
        eq(len(jobs), 50, "number of builds")
        eq(ids(jobs), [ctx["retried_new_id"]] + ALL_BUILDS_DESC, "ids")
        return f"{len(jobs)} builds"

    @step("play 1107 (manual deploy:eu) with job_variables_attributes")
    def _() -> str:
        job = ps.jobs.get(1107)
        eq(job.status, "manual", "status before")
        job.play(post_data={"job_variables_attributes": [{"key": "K", "value": "V"}]})
        eq(job.id, 1107, "id after play (same job)")
        eq(job.status, "pending", "status after play")
        eq(job.user["username"], "alice", "user after play")
        eq(ps.jobs.get(1107).status, "pending", "status of GET afterwards")
        return "manual -> pending, same id"

    @step("erase 1001 (success, artifacts and log): trace empty")
    def _() -> str:
        job = ps.jobs.get(1001)
        job.erase()
        after = ps.jobs.get(1001)
        eq(after.status, "success", "status unchanged")
        assert after.erased_at is not None, "erased_at is set"
        eq(after.attributes["artifacts"], [], "artifacts")
        eq(getattr(after, "artifacts_file", None), None, "artifacts_file")
        eq(after.trace(), b"", "trace")
        return f"erased_at {after.erased_at}"

    @step("errors in the session: 403 / 400 for jobs in the wrong state")
    def _() -> str:
        # Retrying a job that was already retried.
        raises(glexc.GitlabJobRetryError, 403, lambda: ps.jobs.get(1004, lazy=True).retry(),
               "Job is not retryable")
        # Erasing a job that has not finished.
        raises(glexc.GitlabJobEraseError, 403, lambda: ps.jobs.get(1206, lazy=True).erase(),
               "Job is not erasable")
        # Playing a job that is not manual.
        raises(glexc.GitlabJobPlayError, 400, lambda: ps.jobs.get(1002, lazy=True).play(),
               "Unplayable Job")
        # job_variables_attributes items need both key and value (Grape's message).
        raises(glexc.GitlabJobPlayError, 400,
               lambda: ps.jobs.get(1108, lazy=True).play(
                   post_data={"job_variables_attributes": [{"key": "K"}]}),
               "job_variables_attributes[0][value] is missing")
        eq(ps.jobs.get(1108).status, "manual", "1108 not played")
        return "retry retried 403, erase pending 403, play non-manual 400, bad variables 400"

    @step("errors: rita (reporter) may read but not retry/cancel/play: 403")
    def _() -> str:
        gr = gitlab.Gitlab(smoke_url, private_token=RITA, timeout=10)
        pr = gr.projects.get(PROJECT_ID, lazy=True)
        job = pr.jobs.get(1008)
        eq(job.status, "failed", "rita reads 1008")
        e = raises(glexc.GitlabJobRetryError, 403, job.retry, "403 Forbidden")
        raises(glexc.GitlabJobCancelError, 403, lambda: pr.jobs.get(1205, lazy=True).cancel())
        raises(glexc.GitlabJobPlayError, 403, lambda: pr.jobs.get(1108, lazy=True).play())
        eq(ps.jobs.get(1008).status, "failed", "1008 unchanged")
        eq(ps.jobs.get(1205).status, "running", "1205 unchanged")
        eq(ps.jobs.get(1108).status, "manual", "1108 unchanged")
        return f"{e}"

    @step("errors: a read_api token cannot retry: 403 insufficient_scope")
    def _() -> str:
        gro = gitlab.Gitlab(smoke_url, private_token=ALICE_READ, timeout=10)
        pro = gro.projects.get(PROJECT_ID, lazy=True)
        eq(pro.jobs.get(1008).status, "failed", "read_api can read")
        e = raises(glexc.GitlabJobRetryError, 403, lambda: pro.jobs.get(1008, lazy=True).retry(),
                   "insufficient_scope")
        return f"{e}"

    # ---------------- the default session is untouched ----------------

    @step("default session still has the scenario's state")
    def _() -> str:
        eq(project.jobs.get(1203).status, "running", "1203")
        eq(project.jobs.get(1204).status, "running", "1204")
        eq(project.jobs.get(1107).status, "manual", "1107")
        eq(project.jobs.get(1407).status, "failed", "1407")
        job = project.jobs.get(1001)
        eq(job.erased_at, None, "1001 erased_at")
        eq(len(job.attributes["artifacts"]), 3, "1001 artifacts")
        eq(job.trace(), LOG_1001, "1001 trace")
        raises(glexc.GitlabGetError, 404, lambda: project.jobs.get(ctx["retried_new_id"]))
        latest = project.pipelines.get(106, lazy=True).jobs.list(get_all=True)
        eq(sorted(ids(latest)), PIPELINE_106_LATEST, "pipeline 106 latest jobs")
        eq(ids(project.jobs.list(get_all=True)), ALL_BUILDS_DESC, "project jobs")
        gj = gitlab.Gitlab(url, job_token=JOB_TOKEN_1203, timeout=10)
        job_by_token = gj.http_get("/job")
        assert isinstance(job_by_token, dict)
        eq(job_by_token["status"], "running", "GET /job with the job token")
        return "1203/1204 running, 1107 manual, 1001 not erased, 49 builds"

    passed = sum(1 for _, ok in RESULTS if ok)
    failed = len(RESULTS) - passed
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
