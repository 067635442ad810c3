#!/usr/bin/env python3
"""Smoke test: drive glmock with the real python-gitlab client.

    python python_gitlab_smoke.py http://127.0.0.1:PORT

The server must serve fixtures/examples/showcase.yaml, freshly started (tests/smoke/run.sh
does both). Every expected value below comes from that scenario: project `group/project`
(id 10), pipelines 101-106, users alice (owner), bob (developer), rita (reporter), runner 40
(graceful cancel) and 41 (plain), job tokens glcbt-showcase-1203 / -1302.

Read-only steps use the default session (the plain URL). Mutating steps use the session
`smoke` (base URL + /-/sessions/smoke) for jobs and `smoke-pipelines` for pipelines, and
the default session is checked afterwards to still show the scenario's original state.
Pipelines created in `smoke-pipelines` follow the `ci:` timelines of showcase.yaml; the
script moves that session's clock with POST /-/glmock/clock/advance instead of sleeping.

Prints one line per step and a closing `N passed, N failed` line; exits 1 if any failed.
"""

from __future__ import annotations

import sys
import traceback
import warnings
from typing import Any, Callable

import gitlab
import gitlab.exceptions as glexc
import requests  # a dependency of python-gitlab; used for glmock's control API only

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

# Pipelines of project 10 as GET /projects/10/pipelines lists them (id descending). The child
# pipeline 104 (source parent_pipeline) is listed only with source=parent_pipeline.
PIPELINES_DESC = [106, 105, 103, 102, 101]
# GitLab's PipelineBasicWithMetadata: exactly these keys in list items.
PIPELINE_LIST_KEYS = {
    "id", "iid", "project_id", "sha", "ref", "status", "source",
    "created_at", "updated_at", "web_url", "name",
}
BOB = "glpat-bob"  # developer
MAIN_HEAD = "5b1ba69b9a7b0df95851c79c48a49f873a4fa316"
FLAKY_HEAD = "3a60551718726a5cdc59811613c0d09c45ab1924"
# The variables of pipeline 103 (started by bob), in the scenario's order.
PIPELINE_103_VARIABLES = [
    ("env_var", "DEPLOY_ENV", "staging", False),
    ("env_var", "SKIP_E2E", "false", False),
    ("file", "EXTRA_CA_BUNDLE",
     "-----BEGIN CERTIFICATE-----\n"
     "MIIBszCCAVmgAwIBAgIUQ2xvY2sgc2hvd2Nhc2UgY2VydGlmaWNhdGUwCgYIKoZI\n"
     "-----END CERTIFICATE-----\n", False),
    ("env_var", "RELEASE_NOTE", "fix: $HOME stays literal", True),
]
# The project's `ci:` definition: what POST /projects/10/pipeline creates, in order.
CI_JOBS_MAIN = ["compile", "rspec", "lint", "deploy:staging", "deploy:production"]
CI_JOBS_OTHER = ["compile", "rspec", "lint"]  # the deploy jobs are `only: [main]`

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


def session_root(url: str) -> str:
    """The server's URL without a `/-/sessions/NAME` prefix."""
    return url.split("/-/sessions/")[0]


# --- the test ----------------------------------------------------------------------------


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    url = sys.argv[1].rstrip("/")
    # A session URL (http://HOST/-/sessions/NAME) works as well: the read-only steps then
    # use that session, and the mutating sessions are its siblings.
    smoke_url = f"{session_root(url)}/-/sessions/smoke"
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

    pipeline_steps(url, gl, project)

    passed = sum(1 for _, ok in RESULTS if ok)
    failed = len(RESULTS) - passed
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


# --- pipelines ---------------------------------------------------------------------------


def pipeline_steps(url: str, gl: gitlab.Gitlab, project: Any) -> None:
    """The Pipelines API: reads in the default session, then create / cancel / retry /
    delete in the session `smoke-pipelines`."""
    session = "smoke-pipelines"
    session_url = f"{session_root(url)}/-/sessions/{session}"
    ctx: dict[str, Any] = {}

    def advance(seconds: float) -> str:
        """Moves the session's clock (glmock's control API); returns the new `now`."""
        r = requests.post(f"{session_root(url)}/-/glmock/clock/advance",
                          params={"seconds": seconds, "session": session}, timeout=10)
        r.raise_for_status()
        return r.json()["now"]

    def pids(**filters: Any) -> list[int]:
        return ids(project.pipelines.list(get_all=True, **filters))

    # ---------------- read-only, default session ----------------

    @step("project.pipelines.list(): id descending, child pipeline 104 left out, 11 keys")
    def _() -> str:
        lst = project.pipelines.list(iterator=True)
        items = list(lst)
        eq(ids(items), PIPELINES_DESC, "ids")
        eq(lst.total, 5, "X-Total")
        eq(lst.total_pages, 1, "X-Total-Pages")
        for p in items:
            eq(set(p.attributes), PIPELINE_LIST_KEYS, f"keys of pipeline {p.id}")
        byid = {p.id: p for p in items}
        eq(byid[101].name, "Nightly build", "101 name")
        eq(byid[103].name, None, "103 name")
        eq(byid[103].sha, MAIN_HEAD, "103 sha")
        eq(byid[102].ref, "v1.2.0", "102 ref")
        eq({p.id: p.status for p in items},
           {106: "failed", 105: "failed", 103: "running", 102: "manual", 101: "success"},
           "statuses")
        eq(byid[106].web_url, f"{SCENARIO_WEB_URL}/{PROJECT_PATH}/-/pipelines/106", "web_url")
        return f"{ids(items)}, X-Total 5"

    @step("project.pipelines.list(status=, ref=, sha=, scope=, source=)")
    def _() -> str:
        eq(pids(status="failed"), [106, 105], "status=failed")
        eq(pids(status="manual"), [102], "status=manual")
        eq(pids(ref="main"), [103, 101], "ref=main (child 104 left out)")
        eq(pids(ref="v1.2.0"), [102], "ref=v1.2.0")
        eq(pids(sha=MAIN_HEAD), [103], "sha=main head")
        eq(pids(scope="running"), [103], "scope=running")
        eq(pids(scope="pending"), [], "scope=pending")
        eq(pids(scope="finished"), [106, 105, 101], "scope=finished")
        eq(pids(scope="branches"), [106, 105, 103], "scope=branches (newest per branch)")
        eq(pids(scope="tags"), [102], "scope=tags")
        eq(pids(source="push"), [105, 102], "source=push")
        eq(pids(source="schedule"), [101], "source=schedule")
        eq(pids(source="merge_request_event"), [106], "source=merge_request_event")
        eq(pids(source="parent_pipeline"), [104], "source=parent_pipeline")
        return "status, ref, sha, scope x5, source x4"

    @step("project.pipelines.list(yaml_errors=True, username=, name=)")
    def _() -> str:
        eq(pids(yaml_errors=True), [105], "yaml_errors=True")
        eq(pids(yaml_errors=False), [106, 103, 102, 101], "yaml_errors=False")
        eq(pids(username="bob"), [106, 105, 103], "username=bob")
        eq(pids(username="alice"), [102, 101], "username=alice")
        eq(pids(username="nobody"), [], "username=nobody")
        eq(pids(name="Nightly build"), [101], "name='Nightly build'")
        eq(pids(name="Release v1.2.0"), [102], "name='Release v1.2.0'")
        p105 = project.pipelines.get(105)
        eq(p105.yaml_errors, "jobs:rspec config contains unknown keys: parralel", "105 yaml_errors")
        return "yaml_errors -> [105], username=bob -> [106, 105, 103], name -> [101]"

    @step("project.pipelines.list(order_by=, sort=, updated_after=, updated_before=)")
    def _() -> str:
        eq(pids(order_by="id", sort="asc"), sorted(PIPELINES_DESC), "order_by=id sort=asc")
        eq(pids(order_by="updated_at", sort="asc"), [102, 101, 106, 105, 103],
           "order_by=updated_at sort=asc")
        eq(pids(order_by="updated_at", sort="desc"), [103, 105, 106, 101, 102],
           "order_by=updated_at sort=desc")
        # updated_after / updated_before are inclusive (106 was updated at 07:25:05.200).
        eq(pids(updated_after="2025-06-02T07:25:05.200Z"), [106, 105, 103], "updated_after")
        eq(pids(updated_after="2025-06-02T07:25:05.201Z"), [105, 103], "updated_after +1 ms")
        eq(pids(updated_after="2025-06-02T08:00:00Z", updated_before="2025-06-02T09:00:00Z"),
           [105], "updated_after + updated_before")
        eq(pids(updated_before="2025-06-02T02:13:24.000Z"), [102, 101], "updated_before")
        return "order_by updated_at asc -> [102, 101, 106, 105, 103]"

    @step("project.pipelines.list(get_all=True, per_page=2): 3 pages through Link")
    def _() -> str:
        every = project.pipelines.list(get_all=True, per_page=2)
        eq(ids(every), PIPELINES_DESC, "ids")
        lst = project.pipelines.list(iterator=True, per_page=2, ref="main")
        eq(lst.total, 2, "X-Total for ref=main")
        eq(lst.total_pages, 1, "X-Total-Pages for ref=main")
        it = project.pipelines.list(iterator=True, per_page=2)
        eq(it.total_pages, 3, "X-Total-Pages")
        eq(it.next_page, 2, "X-Next-Page")
        eq(ids(it), PIPELINES_DESC, "ids with iterator=True")
        page2 = project.pipelines.list(page=2, per_page=2)
        eq(ids(page2), [103, 102], "page=2")
        return f"{ids(every)}"

    @step("project.pipelines.get(101): PipelineWithMetadata")
    def _() -> str:
        p = project.pipelines.get(101)
        eq(p.id, 101, "id")
        eq(p.iid, 1, "iid")
        eq(p.project_id, PROJECT_ID, "project_id")
        eq(p.name, "Nightly build", "name")
        eq(p.ref, "main", "ref")
        eq(p.sha, "d62d652064cc2d925ab7d7531b61643102ed6d8f", "sha")
        eq(p.tag, False, "tag")
        eq(p.source, "schedule", "source")
        eq(p.status, "success", "status")
        eq(p.yaml_errors, None, "yaml_errors")
        eq(p.user["username"], "alice", "user")
        eq(p.created_at, "2025-06-02T02:00:00.000Z", "created_at")
        eq(p.coverage, "87.40", "coverage (a string)")
        assert isinstance(p.duration, int), f"duration is an integer, got {p.duration!r}"
        assert isinstance(p.queued_duration, int), "queued_duration is an integer"
        # allow_failure job 1008 failed: passed with warnings.
        eq(p.detailed_status["group"], "success-with-warnings", "detailed_status.group")
        eq(p.detailed_status["icon"], "status_warning", "detailed_status.icon")
        eq(p.detailed_status["details_path"], f"/{PROJECT_PATH}/-/pipelines/101",
           "detailed_status.details_path")
        p102 = project.pipelines.get(102)
        eq((p102.tag, p102.status, p102.detailed_status["group"]), (True, "manual", "manual"),
           "102 tag/status/group")
        child = project.pipelines.get(104)  # a child pipeline is found by id
        eq((child.source, child.status), ("parent_pipeline", "running"), "104 source/status")
        return f"{p.name}: {p.status} ({p.detailed_status['label']}), coverage {p.coverage}"

    @step("project.pipelines.latest(ref=...): newest pipeline at the ref's head")
    def _() -> str:
        eq(project.pipelines.latest(ref="feature/flaky-tests").id, 106, "feature/flaky-tests")
        eq(project.pipelines.latest(ref="feature/login").id, 105, "feature/login")
        latest_tag = project.pipelines.latest(ref="v1.2.0")
        eq((latest_tag.id, latest_tag.name), (102, "Release v1.2.0"), "v1.2.0")
        # 101 ran on main, but not at main's current head: no pipeline for an unknown ref
        # or a head without pipelines is 403 (python-gitlab has no special class: HttpError).
        raises(glexc.GitlabHttpError, 403, lambda: project.pipelines.latest(ref="no-such-ref"),
               "403 Forbidden")
        return "flaky-tests 106, login 105, v1.2.0 102, unknown ref 403"

    @step("project.pipelines.latest(ref='main') / latest(): 103, not the child 104")
    def _() -> str:
        latest = project.pipelines.latest(ref="main")
        eq((latest.id, latest.sha, latest.source), (103, MAIN_HEAD, "web"), "ref=main")
        eq(project.pipelines.latest().id, 103, "default branch")
        eq(latest.detailed_status["group"], "running", "detailed_status.group")
        return "103"

    @step("pipeline.variables.list(): owner, triggering developer; reporter 403")
    def _() -> str:
        vs = project.pipelines.get(103, lazy=True).variables.list(get_all=True)
        got = [(v.variable_type, v.key, v.value, v.raw) for v in vs]
        eq(got, PIPELINE_103_VARIABLES, "variables of 103")
        eq(set(vs[0].attributes) - {"project_id", "pipeline_id"},
           {"variable_type", "key", "value", "raw"}, "keys")
        eq(project.pipelines.get(101, lazy=True).variables.list(get_all=True), [], "101: none")
        gb = gitlab.Gitlab(url, private_token=BOB, timeout=10)
        pb = gb.projects.get(PROJECT_ID, lazy=True)
        eq(len(pb.pipelines.get(103, lazy=True).variables.list(get_all=True)), 4,
           "bob started 103: may read")
        raises(glexc.GitlabListError, 403,
               lambda: pb.pipelines.get(101, lazy=True).variables.list(get_all=True),
               "403 Forbidden")
        gr = gitlab.Gitlab(url, private_token=RITA, timeout=10)
        raises(glexc.GitlabListError, 403,
               lambda: gr.projects.get(PROJECT_ID, lazy=True).pipelines.get(103, lazy=True)
               .variables.list(get_all=True))
        return f"{[v.key for v in vs]}; bob on 101 403, rita 403"

    @step("pipeline.test_report.get() / test_report_summary.get(): counts agree")
    def _() -> str:
        p = project.pipelines.get(101, lazy=True)
        report = p.test_report.get()
        summary = p.test_report_summary.get()
        eq((report.total_count, report.success_count, report.failed_count,
            report.skipped_count, report.error_count), (6, 5, 0, 1, 0), "101 report counts")
        eq(report.total_time, 754.2, "101 total_time")
        eq([s["name"] for s in report.test_suites], ["rspec", "jest"], "suite names")
        eq(len(report.test_suites[0]["test_cases"]), 4, "rspec test cases")
        t = summary.total
        eq((t["time"], t["count"], t["success"], t["failed"], t["skipped"], t["error"]),
           (report.total_time, report.total_count, report.success_count, report.failed_count,
            report.skipped_count, report.error_count), "summary total = report counts")
        for rs, ss in zip(report.test_suites, summary.test_suites, strict=True):
            for k in ("name", "total_count", "success_count", "failed_count", "skipped_count",
                      "error_count"):
                eq(ss[k], rs[k], f"suite {rs['name']} {k}")
        failing = project.pipelines.get(106, lazy=True).test_report.get()
        eq((failing.total_count, failing.failed_count), (3, 1), "106 counts")
        failed_case = [c for c in failing.test_suites[0]["test_cases"] if c["status"] == "failed"]
        eq([c["name"] for c in failed_case], ["SessionStore expires idle sessions"], "106 failed")
        none = project.pipelines.get(102, lazy=True)
        eq((none.test_report.get().total_count, none.test_report.get().test_suites), (0, []),
           "102: no report")
        eq(none.test_report_summary.get().total["count"], 0, "102: empty summary")
        return "101: 6 tests (5 passed, 1 skipped) in 2 suites; 106: 1 failed; 102: none"

    @step("errors: missing pipeline GitlabGetError 404, bad token 401")
    def _() -> str:
        e = raises(glexc.GitlabGetError, 404, lambda: project.pipelines.get(999999),
                   "404 Not found")
        raises(glexc.GitlabGetError, 404,
               lambda: project.pipelines.get(999999, lazy=True).test_report.get())
        bad = gitlab.Gitlab(url, private_token="glpat-no-such-token", timeout=10)
        raises(glexc.GitlabAuthenticationError, 401,
               lambda: bad.projects.get(PROJECT_ID, lazy=True).pipelines.list(get_all=False))
        return f"{e}"

    # ---------------- mutations, session `smoke-pipelines` ----------------

    gp = gitlab.Gitlab(session_url, private_token=ALICE, timeout=10)
    pp = gp.projects.get(PROJECT_ID, lazy=True)

    @step("session smoke-pipelines: project.pipelines.create(ref=main, variables)")
    def _() -> str:
        p = pp.pipelines.create({"ref": "main", "variables": [{"key": "K", "value": "V"}]})
        ctx["new"] = p.id
        assert p.id > max(PIPELINES_DESC + [104]), f"new id {p.id} above the scenario's"
        eq(p.iid, 7, "iid")
        eq(p.project_id, PROJECT_ID, "project_id")
        eq(p.ref, "main", "ref")
        eq(p.sha, MAIN_HEAD, "sha (main's head)")
        eq(p.tag, False, "tag")
        eq(p.source, "api", "source")
        eq(p.status, "pending", "status")
        eq(p.user["username"], "alice", "user")
        eq(p.yaml_errors, None, "yaml_errors")
        eq(p.detailed_status["group"], "pending", "detailed_status.group")
        # POST /pipeline answers the Pipeline entity: no `name` (and never `variables`).
        assert "name" not in p.attributes, "no name key in the create answer"
        assert "variables" not in p.attributes, "no variables key in the create answer"
        # python-gitlab does not expose the status code: glmock's journal has it.
        j = requests.get(f"{session_root(url)}/-/glmock/journal",
                         params={"session": session, "method": "POST"}, timeout=10).json()
        creates = [e for e in j["entries"] if e["path"].endswith(f"/{PROJECT_ID}/pipeline")]
        eq(creates[-1]["status"], 201, "status code of POST /projects/10/pipeline")
        vs = pp.pipelines.get(p.id, lazy=True).variables.list(get_all=True)
        eq([(v.variable_type, v.key, v.value, v.raw) for v in vs],
           [("env_var", "K", "V", False)], "variables")
        return f"pipeline {p.id} (iid {p.iid}) pending, 201, variables K=V"

    @step("new pipeline: jobs from ci:, first stage pending, later stages created")
    def _() -> str:
        new = pp.pipelines.get(ctx["new"], lazy=True)
        jobs = sorted(new.jobs.list(get_all=True), key=lambda j: j.id)
        eq([j.name for j in jobs], CI_JOBS_MAIN, "job names in ci: order")
        assert jobs[0].id > MAX_JOB_ID, f"new job ids above the scenario's, got {jobs[0].id}"
        eq([j.stage for j in jobs], ["build", "test", "test", "deploy", "deploy"], "stages")
        eq([j.status for j in jobs], ["pending", "created", "created", "created", "created"],
           "statuses")
        eq(jobs[0].tag_list, ["docker"], "compile tag_list")
        eq([j.allow_failure for j in jobs], [False, False, True, False, True], "allow_failure")
        eq({j.user["username"] for j in jobs}, {"alice"}, "user")
        eq({j.pipeline["id"] for j in jobs}, {ctx["new"]}, "pipeline.id")
        ctx["new_jobs"] = {j.name: j.id for j in jobs}
        # The newest pipeline at main's head is now the new one.
        eq(pp.pipelines.latest(ref="main").id, ctx["new"], "latest(ref=main)")
        eq(pp.pipelines.latest().id, ctx["new"], "latest() (default branch)")
        eq(ids(pp.pipelines.list(get_all=True, source="api")), [ctx["new"]], "source=api")
        return ", ".join(f"{j.name} {j.status}" for j in jobs)

    @step("clock +3 s: compile running, pipeline running")
    def _() -> str:
        now = advance(3)
        compile_id = ctx["new_jobs"]["compile"]
        job = pp.jobs.get(compile_id)
        eq(job.status, "running", "compile")
        assert job.started_at is not None, "compile started_at"
        eq(pp.pipelines.get(ctx["new"]).status, "running", "pipeline")
        eq(ids(pp.pipelines.list(get_all=True, scope="running")), [ctx["new"], 103],
           "scope=running")
        return f"clock {now}"

    @step("clock moves on: poll the pipeline to success (lint may fail)")
    def _() -> str:
        new = pp.pipelines.get(ctx["new"])
        seen = [new.status]
        for _ in range(20):
            if new.status == "success":
                break
            advance(5)
            new.refresh()
            if new.status != seen[-1]:
                seen.append(new.status)
        eq(new.status, "success", "final status")
        eq(new.detailed_status["group"], "success-with-warnings", "detailed_status.group")
        assert new.finished_at is not None, "finished_at"
        jobs = {j.name: j for j in new.jobs.list(get_all=True)}
        eq({n: j.status for n, j in jobs.items()},
           {"compile": "success", "rspec": "success", "lint": "failed",
            "deploy:staging": "success", "deploy:production": "manual"}, "job statuses")
        eq(jobs["lint"].failure_reason, "script_failure", "lint failure_reason")
        eq(jobs["rspec"].duration, 15.0, "rspec duration (its timeline)")
        ctx["new_jobs_done"] = jobs
        return " -> ".join(seen)

    @step("new pipeline: started_at / finished_at follow its jobs")
    def _() -> str:
        new = pp.pipelines.get(ctx["new"])
        jobs = ctx["new_jobs_done"]
        eq(new.started_at, jobs["compile"].started_at, "started_at")
        eq(new.finished_at, jobs["deploy:staging"].finished_at, "finished_at")
        eq(new.updated_at, new.finished_at, "updated_at")
        eq(new.queued_duration, 2, "queued_duration")
        return f"{new.started_at} .. {new.finished_at}"

    @step("new pipeline: its running / finished jobs name a runner")
    def _() -> str:
        jobs = ctx["new_jobs_done"]
        for name in ("compile", "rspec", "lint", "deploy:staging"):
            assert jobs[name].runner is not None, f"{name}.runner"
        return "runner set"

    @step("create on feature/login: only the jobs without only: [main]")
    def _() -> str:
        p = pp.pipelines.create({"ref": "feature/login"})
        eq((p.ref, p.sha, p.status), ("feature/login", "0f53a4b903d11da9f4153ec4c5cc1a5e30f659df",
                                     "pending"), "ref/sha/status")
        jobs = sorted(p.jobs.list(get_all=True), key=lambda j: j.id)
        eq([j.name for j in jobs], CI_JOBS_OTHER, "job names")
        eq(p.variables.list(get_all=True), [], "no variables")
        return f"pipeline {p.id}: {[j.name for j in jobs]}"

    @step("create errors: unknown ref GitlabCreateError 400, reporter 403")
    def _() -> str:
        e = raises(glexc.GitlabCreateError, 400,
                   lambda: pp.pipelines.create({"ref": "no-such-branch"}))
        eq(e.error_message, {"base": ["Reference not found"]}, "message")
        gr = gitlab.Gitlab(session_url, private_token=RITA, timeout=10)
        pr = gr.projects.get(PROJECT_ID, lazy=True)
        raises(glexc.GitlabCreateError, 403,
               lambda: pr.pipelines.create({"ref": "main"}), "403 Forbidden")
        return "{'base': ['Reference not found']}; rita 403"

    @step("cancel 103 (running): jobs cancel, child 104 too")
    def _() -> str:
        p = pp.pipelines.get(103)
        eq(p.status, "running", "status before")
        res = p.cancel()
        eq(res["id"], 103, "id in the answer")
        jobs = {j.id: j.status for j in p.jobs.list(get_all=True)}
        eq(jobs, {
            1201: "success", 1202: "success",
            1203: "canceling",  # runner 40: graceful, after_script still runs
            1204: "canceled",   # runner 41: straight to canceled
            1205: "canceling", 1206: "canceled", 1207: "canceling", 1208: "success",
            1209: "canceled",   # created
            1210: "manual", 1211: "manual",  # manual jobs are not cancelable
            1212: "canceled",   # scheduled
        }, "job statuses")
        bridges = p.bridges.list(get_all=True)
        eq([(b.id, b.status) for b in bridges], [(1213, "canceled")], "bridge")
        eq(pp.pipelines.get(104).status, "canceled", "child pipeline 104")
        # GitLab's composite status: a blocking manual job (1211) outranks `canceling`.
        after = pp.pipelines.get(103)
        eq(after.status, "manual", "status afterwards")
        return f"103 {after.status}, 104 canceled"

    @step("retry 106 (failed): failed and canceled jobs get new ids")
    def _() -> str:
        p = pp.pipelines.get(106)
        eq(p.status, "failed", "status before")
        res = p.retry()
        eq(res["id"], 106, "id in the answer")
        latest = p.jobs.list(get_all=True)
        new = sorted((j for j in latest if j.id > MAX_JOB_ID), key=lambda j: j.name)
        eq([(j.name, j.status) for j in new],
           [("e2e", "pending"), ("lint", "pending"), ("rspec", "pending")], "new jobs")
        eq({j.user["username"] for j in new}, {"alice"}, "user of the new jobs")
        st = {j.id: j.status for j in latest}
        eq(st[1408], "created", "1408 deploy:review (was skipped)")
        eq((st[1401], st[1403], st[1409]), ("success",) * 3, "finished jobs kept")
        every = {j.id for j in p.jobs.list(get_all=True, include_retried=True)}
        assert {1402, 1404, 1405, 1406, 1407} <= every, "retried jobs with include_retried"
        eq(pp.pipelines.get(106).status, "running", "status afterwards")
        return f"new jobs {[j.id for j in new]}, 106 running"

    @step("rita (reporter) cannot cancel or retry: 403")
    def _() -> str:
        gr = gitlab.Gitlab(session_url, private_token=RITA, timeout=10)
        pr = gr.projects.get(PROJECT_ID, lazy=True)
        raises(glexc.GitlabPipelineCancelError, 403,
               lambda: pr.pipelines.get(ctx["new"], lazy=True).cancel(), "403 Forbidden")
        raises(glexc.GitlabPipelineRetryError, 403,
               lambda: pr.pipelines.get(106, lazy=True).retry(), "403 Forbidden")
        return "GitlabPipelineCancelError / GitlabPipelineRetryError 403"

    @step("delete 101: developer 403, owner 204, then 404 (jobs gone too)")
    def _() -> str:
        gb = gitlab.Gitlab(session_url, private_token=BOB, timeout=10)
        raises(glexc.GitlabDeleteError, 403,
               lambda: gb.projects.get(PROJECT_ID, lazy=True).pipelines.delete(101),
               "403 Forbidden")
        pp.pipelines.get(101).delete()
        j = requests.get(f"{session_root(url)}/-/glmock/journal",
                         params={"session": session, "method": "DELETE"}, timeout=10).json()
        eq([e["status"] for e in j["entries"]], [403, 204], "DELETE status codes")
        e = raises(glexc.GitlabGetError, 404, lambda: pp.pipelines.get(101), "404 Not found")
        raises(glexc.GitlabDeleteError, 404, lambda: pp.pipelines.delete(101))
        raises(glexc.GitlabGetError, 404, lambda: pp.jobs.get(1001))
        assert 101 not in ids(pp.pipelines.list(get_all=True)), "101 not listed"
        return f"{e}"

    # ---------------- the default session is untouched ----------------

    @step("default session still has the scenario's pipelines")
    def _() -> str:
        eq(pids(), PIPELINES_DESC, "pipeline ids")
        eq(project.pipelines.get(103).status, "running", "103")
        eq(project.pipelines.get(104).status, "running", "104")
        eq(project.pipelines.get(106).status, "failed", "106")
        eq(project.pipelines.get(101).status, "success", "101")
        eq(pids(source="api"), [], "no api pipelines")
        return f"{PIPELINES_DESC}, 103/104 running"


if __name__ == "__main__":
    sys.exit(main())
