#!/usr/bin/env node
// Smoke test: drive glmock with the real @gitbeaker/rest client.
//
//     node smoke.mjs http://127.0.0.1:PORT
//
// The server must serve fixtures/examples/showcase.yaml (tests/smoke/run.sh starts it). Every
// expected value comes from that scenario: project `group/project` (id 10), pipelines
// 101-106 (104 is the child of 103), users alice (owner), bob (developer), rita (reporter),
// runners 40 (graceful cancel) and 41 (plain), job token glcbt-showcase-1203.
//
// Reads use the default session, which this script never changes (another client may
// share it). Changes go to the sessions `gitbeaker` (jobs) and `gitbeaker-pipelines`
// (pipelines); both are reset first, so the script can run again against the same server
// and nothing another client did in other sessions matters. Pipelines created here follow
// the `ci:` timelines of showcase.yaml; the script moves the session clock with
// POST /-/glmock/clock/advance instead of sleeping.
//
// Prints one line per step and a closing `N passed, N failed` line; exits 1 if any failed.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { Gitlab, GitbeakerRequestError } from '@gitbeaker/rest';

// (package.json is not in the package's `exports`, so read the installed file.)
const GITBEAKER_VERSION = JSON.parse(readFileSync(
  new URL('./node_modules/@gitbeaker/rest/package.json', import.meta.url), 'utf8')).version;

// --- what the showcase scenario holds ----------------------------------------------------

const SCENARIO_WEB_URL = 'https://gitlab.example.com';
const P = 'group/project'; // gitbeaker sends it as group%2Fproject
const PROJECT_ID = 10;

const ALICE = 'glpat-alice'; // owner
const BOB = 'glpat-bob'; // developer
const RITA = 'glpat-rita'; // reporter
const JOB_TOKEN_1203 = 'glcbt-showcase-1203';

const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);
// Builds (not bridges) per pipeline, retried ones included.
const BUILDS = {
  101: range(1001, 1014),
  102: range(1101, 1112),
  103: range(1201, 1213),
  104: range(1301, 1305),
  106: range(1401, 1410),
};
const ALL_BUILDS_DESC = Object.values(BUILDS).flat().sort((a, b) => b - a);
assert.equal(ALL_BUILDS_DESC.length, 49);
const MAX_JOB_ID = 1409;
const RUNNING = [1302, 1205, 1204, 1203];
const FAILED_OR_CANCELED = [1407, 1406, 1405, 1404, 1402, 1008, 1004];

// Pipelines as GET /projects/10/pipelines lists them: the child 104 only with
// source=parent_pipeline.
const PIPELINES_DESC = [106, 105, 103, 102, 101];
const PIPELINE_LIST_KEYS = [
  'created_at', 'id', 'iid', 'name', 'project_id', 'ref', 'sha', 'source', 'status',
  'updated_at', 'web_url',
];
const MAIN_HEAD = '5b1ba69b9a7b0df95851c79c48a49f873a4fa316';
const CI_JOBS_MAIN = ['compile', 'rspec', 'lint', 'deploy:staging', 'deploy:production'];
const CI_JOBS_OTHER = ['compile', 'rspec', 'lint'];

const LOG_1001 = `Running with gitlab-runner 17.11.3 (0f4a1b2c)
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
`;

// --- a tiny step runner ------------------------------------------------------------------

let passed = 0;
let failed = 0;

async function step(name, fn) {
  const n = String(passed + failed + 1).padStart(2);
  try {
    const detail = await fn();
    passed += 1;
    console.log(`ok   ${n} ${name}${detail ? ` — ${detail}` : ''}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${n} ${name}: ${e?.name}: ${e?.message}`);
    const stack = String(e?.stack || '').split('\n').slice(1, 5);
    for (const line of stack) console.log(`        ${line.trim()}`);
  }
}

/** Asserts that `fn()` rejects with a GitbeakerRequestError of HTTP `status`, and that its
 *  message contains `message` (gitbeaker takes JSON `error` || `message`). */
async function rejects(fn, status, message) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  if (!err) throw new assert.AssertionError({ message: `expected HTTP ${status}, but it succeeded` });
  if (!(err instanceof GitbeakerRequestError)) {
    throw new assert.AssertionError({ message: `expected GitbeakerRequestError, got ${err.name}: ${err.message}` });
  }
  assert.equal(err.cause?.response?.status, status, `status of: ${err.message}`);
  if (message !== undefined) {
    assert.ok(err.message.includes(message), `expected ${JSON.stringify(message)} in ${JSON.stringify(err.message)}`);
  }
  return err;
}

const ids = (xs) => xs.map((x) => x.id);

// --- the test ----------------------------------------------------------------------------

async function main() {
  if (process.argv.length !== 3) {
    console.error('usage: node smoke.mjs http://127.0.0.1:PORT');
    return 2;
  }
  const url = process.argv[2].replace(/\/+$/, '');
  console.log(`@gitbeaker/rest ${GITBEAKER_VERSION} (node ${process.version}) against ${url}`);

  const JOBS_SESSION = 'gitbeaker';
  const PIPELINES_SESSION = 'gitbeaker-pipelines';
  const control = async (path, params) => {
    const res = await fetch(`${url}/-/glmock/${path}?${new URLSearchParams(params)}`, { method: 'POST' });
    if (!res.ok) throw new Error(`POST /-/glmock/${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  for (const session of [JOBS_SESSION, PIPELINES_SESSION]) await control('reset', { session });
  const advance = async (seconds) => (await control('clock/advance', { seconds, session: PIPELINES_SESSION })).now;
  const statusCodes = async (session, method, suffix) => {
    const res = await fetch(`${url}/-/glmock/journal?${new URLSearchParams({ session, method })}`);
    const { entries } = await res.json();
    return entries.filter((e) => e.path.endsWith(suffix)).map((e) => e.status);
  };

  const api = new Gitlab({ host: url, token: ALICE });
  const { Jobs, Pipelines } = api;

  // ---------------- jobs, default session (read-only) ----------------

  await step('Jobs.all(perPage: 20): every build, following Link rel=next', async () => {
    const jobs = await Jobs.all(P, { perPage: 20 });
    assert.deepEqual(ids(jobs), ALL_BUILDS_DESC);
    return `${jobs.length} builds in 3 pages`;
  });

  await step('Jobs.all(maxPages: 1, showExpanded): one page and its headers', async () => {
    const { data, paginationInfo } = await Jobs.all(P, { perPage: 20, maxPages: 1, showExpanded: true });
    assert.deepEqual(ids(data), ALL_BUILDS_DESC.slice(0, 20));
    assert.equal(paginationInfo.current, 1);
    assert.equal(paginationInfo.next, 2);
    assert.equal(paginationInfo.previous, null);
    assert.equal(paginationInfo.perPage, 20);
    // GitLab >= 17.0 does not count project jobs: no X-Total / X-Total-Pages.
    assert.ok(Number.isNaN(paginationInfo.total), 'no X-Total');
    assert.ok(Number.isNaN(paginationInfo.totalPages), 'no X-Total-Pages');
    return 'X-Page 1, X-Next-Page 2, no X-Total';
  });

  await step("Jobs.all(scope: 'running') / scope: ['failed', 'canceled']", async () => {
    const running = await Jobs.all(P, { scope: 'running' }); // scope=running
    assert.deepEqual(ids(running), RUNNING);
    const bad = await Jobs.all(P, { scope: ['failed', 'canceled'] }); // scope[]=…&scope[]=…
    assert.deepEqual(ids(bad), FAILED_OR_CANCELED);
    return `running ${ids(running)}; failed/canceled ${ids(bad)}`;
  });

  await step("Jobs.all(pagination: 'keyset', orderBy: 'id', sort: 'desc', perPage: 10)", async () => {
    const jobs = await Jobs.all(P, { pagination: 'keyset', orderBy: 'id', sort: 'desc', perPage: 10 });
    assert.deepEqual(ids(jobs), ALL_BUILDS_DESC);
    return `${jobs.length} builds in 5 keyset pages`;
  });

  await step('Jobs.all(pipelineId: 101, includeRetried: true) / latest only', async () => {
    const latest = await Jobs.all(P, { pipelineId: 101 });
    assert.deepEqual(ids(latest).sort(), BUILDS[101].filter((id) => id !== 1004));
    const every = await Jobs.all(P, { pipelineId: 101, includeRetried: true });
    assert.deepEqual(ids(every).sort(), BUILDS[101]);
    return `${latest.length} latest, ${every.length} with retried`;
  });

  await step('Jobs.show(1203): a running job', async () => {
    const job = await Jobs.show(P, 1203);
    assert.equal(job.id, 1203);
    assert.equal(job.name, 'rspec 1/2');
    assert.equal(job.status, 'running');
    assert.equal(job.stage, 'test');
    assert.equal(job.ref, 'main');
    assert.equal(job.pipeline.id, 103);
    assert.equal(job.runner.id, 40);
    assert.deepEqual(job.tag_list, ['kubernetes']);
    assert.equal(job.started_at, '2025-06-02T09:51:45.000Z');
    assert.equal(job.finished_at, null);
    return `${job.name} ${job.status}`;
  });

  await step('Jobs.showLog(1001): a string (text/plain); 1002 without log: empty', async () => {
    const log = await Jobs.showLog(P, 1001);
    assert.equal(typeof log, 'string');
    assert.equal(log, LOG_1001);
    assert.equal(await Jobs.showLog(P, 1002), '');
    return `${log.length} chars`;
  });

  await step('Jobs.allPipelineBridges(103)', async () => {
    const bridges = await Jobs.allPipelineBridges(P, 103);
    assert.deepEqual(bridges.map((b) => [b.id, b.name, b.status, b.downstream_pipeline?.id]),
      [[1213, 'trigger:docs', 'running', 104]]);
    assert.deepEqual(await Jobs.allPipelineBridges(P, 103, { scope: 'success' }), []);
    return 'trigger:docs -> 104';
  });

  await step("job token: Jobs({jobToken}).showConnectedJob() (headers['job-token'] set by hand)", async () => {
    const jobs = new Gitlab({ host: url, jobToken: JOB_TOKEN_1203 }).Jobs;
    // gitbeaker 43 checks this.headers, but keeps jobToken in authHeaders (client bug).
    jobs.headers['job-token'] = JOB_TOKEN_1203;
    const job = await jobs.showConnectedJob();
    assert.equal(job.id, 1203);
    assert.equal(job.status, 'running');
    return `job ${job.id} ${job.status}`;
  });

  await step('errors: missing job 404, bridge id 404, bad token 401', async () => {
    const e = await rejects(() => Jobs.show(P, 999999), 404, '404 Not found');
    await rejects(() => Jobs.show(P, 1213), 404);
    await rejects(() => Jobs.showLog(P, 999999), 404);
    const bad = new Gitlab({ host: url, token: 'glpat-no-such-token' });
    await rejects(() => bad.Jobs.all(P, { maxPages: 1 }), 401, '401 Unauthorized');
    await rejects(() => Jobs.show('group/no-such-project', 1), 404, '404 Project Not Found');
    return e.message;
  });

  // ---------------- jobs, session `gitbeaker` ----------------

  const js = new Gitlab({ host: `${url}/-/sessions/${JOBS_SESSION}`, token: ALICE }).Jobs;

  await step(`session ${JOBS_SESSION}: cancel 1203 (graceful) / 1204 (plain)`, async () => {
    const a = await js.cancel(P, 1203);
    assert.deepEqual([a.id, a.status], [1203, 'canceling']);
    const b = await js.cancel(P, 1204);
    assert.deepEqual([b.id, b.status], [1204, 'canceled']);
    assert.equal((await js.show(P, 1203)).status, 'canceling');
    assert.deepEqual(await statusCodes(JOBS_SESSION, 'POST', '/cancel'), [201, 201]);
    return '1203 canceling, 1204 canceled, 201';
  });

  await step('retry 1407: a new pending job', async () => {
    const res = await js.retry(P, 1407);
    assert.ok(res.id > MAX_JOB_ID, `new id ${res.id}`);
    assert.equal(res.status, 'pending');
    assert.equal(res.name, 'rspec');
    assert.equal(res.pipeline.id, 106);
    assert.equal(res.user.username, 'alice');
    assert.equal((await js.show(P, 1407)).status, 'failed');
    const latest = await js.all(P, { pipelineId: 106 });
    assert.ok(ids(latest).includes(res.id) && !ids(latest).includes(1407), 'replaces 1407');
    return `1407 -> ${res.id}`;
  });

  await step('play 1107 with jobVariablesAttributes', async () => {
    const res = await js.play(P, 1107, { jobVariablesAttributes: [{ key: 'K', value: 'V' }] });
    assert.deepEqual([res.id, res.status, res.user.username], [1107, 'pending', 'alice']);
    return 'manual -> pending, same id';
  });

  await step('erase 1001: artifacts and log gone', async () => {
    const res = await js.erase(P, 1001);
    assert.equal(res.id, 1001);
    const after = await js.show(P, 1001);
    assert.ok(after.erased_at, 'erased_at set');
    assert.deepEqual(after.artifacts, []);
    assert.equal(await js.showLog(P, 1001), '');
    return `erased_at ${after.erased_at}`;
  });

  await step('job errors: retry retried 403, play non-manual 400, erase running 403, reporter 403', async () => {
    await rejects(() => js.retry(P, 1004), 403, 'Job is not retryable');
    await rejects(() => js.play(P, 1002), 400, 'Unplayable Job');
    await rejects(() => js.erase(P, 1205), 403, 'Job is not erasable!');
    const rita = new Gitlab({ host: `${url}/-/sessions/${JOBS_SESSION}`, token: RITA }).Jobs;
    await rejects(() => rita.cancel(P, 1205), 403, '403 Forbidden');
    assert.equal((await js.show(P, 1205)).status, 'running');
    return 'ok';
  });

  // ---------------- pipelines, default session (read-only) ----------------

  const pl = (opts = {}) => Pipelines.all(P, opts).then(ids);

  await step('Pipelines.all(): id descending, child 104 left out, 11 keys', async () => {
    const { data, paginationInfo } = await Pipelines.all(P, { showExpanded: true });
    assert.deepEqual(ids(data), PIPELINES_DESC);
    for (const p of data) assert.deepEqual(Object.keys(p).sort(), PIPELINE_LIST_KEYS, `keys of ${p.id}`);
    assert.equal(paginationInfo.total, 5);
    assert.equal(paginationInfo.totalPages, 1);
    const byId = Object.fromEntries(data.map((p) => [p.id, p]));
    assert.equal(byId[101].name, 'Nightly build');
    assert.equal(byId[106].web_url, `${SCENARIO_WEB_URL}/${P}/-/pipelines/106`);
    return `${ids(data)}`;
  });

  await step('Pipelines.all(status, ref, sha, scope, source)', async () => {
    assert.deepEqual(await pl({ status: 'failed' }), [106, 105]);
    assert.deepEqual(await pl({ ref: 'main' }), [103, 101]);
    assert.deepEqual(await pl({ sha: MAIN_HEAD }), [103]);
    assert.deepEqual(await pl({ scope: 'running' }), [103]);
    assert.deepEqual(await pl({ scope: 'finished' }), [106, 105, 101]);
    assert.deepEqual(await pl({ scope: 'branches' }), [106, 105, 103]);
    assert.deepEqual(await pl({ scope: 'tags' }), [102]);
    assert.deepEqual(await pl({ source: 'push' }), [105, 102]);
    assert.deepEqual(await pl({ source: 'parent_pipeline' }), [104]);
    return 'ok';
  });

  await step('Pipelines.all(yamlErrors: true, username, name, orderBy/sort, updatedAfter/Before)', async () => {
    assert.deepEqual(await pl({ yamlErrors: true }), [105]);
    assert.deepEqual(await pl({ yamlErrors: false }), [106, 103, 102, 101]);
    assert.deepEqual(await pl({ username: 'bob' }), [106, 105, 103]);
    assert.deepEqual(await pl({ username: 'nobody' }), []);
    assert.deepEqual(await pl({ name: 'Nightly build' }), [101]);
    assert.deepEqual(await pl({ orderBy: 'id', sort: 'asc' }), [101, 102, 103, 105, 106]);
    assert.deepEqual(await pl({ orderBy: 'updated_at', sort: 'asc' }), [102, 101, 106, 105, 103]);
    assert.deepEqual(await pl({ updatedAfter: '2025-06-02T07:25:05.200Z' }), [106, 105, 103]);
    assert.deepEqual(await pl({ updatedAfter: '2025-06-02T08:00:00Z', updatedBefore: '2025-06-02T09:00:00Z' }), [105]);
    return 'ok';
  });

  await step('Pipelines.all(perPage: 2): 3 pages through Link', async () => {
    assert.deepEqual(await pl({ perPage: 2 }), PIPELINES_DESC);
    const { data, paginationInfo } = await Pipelines.all(P, { perPage: 2, page: 2, showExpanded: true });
    assert.deepEqual(ids(data), [103, 102]);
    assert.deepEqual([paginationInfo.current, paginationInfo.next, paginationInfo.previous,
      paginationInfo.total, paginationInfo.totalPages], [2, 3, 1, 5, 3]);
    return 'page 2 of 3: [103, 102]';
  });

  await step('Pipelines.show(101) / show(104): PipelineWithMetadata', async () => {
    const p = await Pipelines.show(P, 101);
    assert.equal(p.id, 101);
    assert.equal(p.project_id, PROJECT_ID);
    assert.equal(p.name, 'Nightly build');
    assert.equal(p.status, 'success');
    assert.equal(p.source, 'schedule');
    assert.equal(p.user.username, 'alice');
    assert.equal(p.coverage, '87.40');
    assert.ok(Number.isInteger(p.duration), `duration ${p.duration}`);
    assert.equal(p.detailed_status.group, 'success-with-warnings');
    assert.equal(p.detailed_status.details_path, `/${P}/-/pipelines/101`);
    const child = await Pipelines.show(P, 104);
    assert.deepEqual([child.source, child.status], ['parent_pipeline', 'running']);
    const broken = await Pipelines.show(P, 105);
    assert.equal(broken.yaml_errors, 'jobs:rspec config contains unknown keys: parralel');
    return `${p.name} ${p.detailed_status.label}`;
  });

  await step('Pipelines.showLatest({ref}): newest at the head of the ref; unknown ref 403', async () => {
    assert.equal((await Pipelines.showLatest(P, { ref: 'feature/flaky-tests' })).id, 106);
    assert.equal((await Pipelines.showLatest(P, { ref: 'v1.2.0' })).id, 102);
    await rejects(() => Pipelines.showLatest(P, { ref: 'no-such-ref' }), 403, '403 Forbidden');
    return 'flaky-tests 106, v1.2.0 102';
  });

  await step('Pipelines.showLatest(): main -> 103, not the child 104', async () => {
    assert.equal((await Pipelines.showLatest(P)).id, 103);
    assert.equal((await Pipelines.showLatest(P, { ref: 'main' })).id, 103);
    return '103';
  });

  await step('Pipelines.allVariables(103); reporter 403', async () => {
    const vars = await Pipelines.allVariables(P, 103);
    assert.deepEqual(vars.map((v) => [v.key, v.variable_type, v.raw]), [
      ['DEPLOY_ENV', 'env_var', false], ['SKIP_E2E', 'env_var', false],
      ['EXTRA_CA_BUNDLE', 'file', false], ['RELEASE_NOTE', 'env_var', true]]);
    assert.deepEqual(Object.keys(vars[0]).sort(), ['key', 'raw', 'value', 'variable_type']);
    const rita = new Gitlab({ host: url, token: RITA }).Pipelines;
    await rejects(() => rita.allVariables(P, 103), 403);
    const bob = new Gitlab({ host: url, token: BOB }).Pipelines;
    assert.equal((await bob.allVariables(P, 103)).length, 4, 'bob triggered 103');
    await rejects(() => bob.allVariables(P, 101), 403);
    return `${vars.map((v) => v.key)}`;
  });

  await step('Pipelines.showTestReport / showTestReportSummary(101): counts agree', async () => {
    const report = await Pipelines.showTestReport(P, 101);
    const summary = await Pipelines.showTestReportSummary(P, 101);
    assert.deepEqual([report.total_count, report.success_count, report.failed_count,
      report.skipped_count, report.error_count], [6, 5, 0, 1, 0]);
    assert.deepEqual([summary.total.count, summary.total.success, summary.total.failed,
      summary.total.skipped, summary.total.error, summary.total.time],
    [report.total_count, report.success_count, report.failed_count, report.skipped_count,
      report.error_count, report.total_time]);
    assert.deepEqual(summary.test_suites.map((s) => [s.name, s.total_count]),
      report.test_suites.map((s) => [s.name, s.total_count]));
    const none = await Pipelines.showTestReport(P, 102);
    assert.deepEqual([none.total_count, none.test_suites], [0, []]);
    return `${report.total_count} tests in ${report.test_suites.length} suites`;
  });

  await step('pipeline errors: missing 404, bad token 401', async () => {
    const e = await rejects(() => Pipelines.show(P, 999999), 404, '404 Not found');
    const bad = new Gitlab({ host: url, token: 'glpat-no-such-token' });
    await rejects(() => bad.Pipelines.show(P, 101), 401);
    return e.message;
  });

  // ---------------- pipelines, session `gitbeaker-pipelines` ----------------

  const sessionHost = `${url}/-/sessions/${PIPELINES_SESSION}`;
  const ps = new Gitlab({ host: sessionHost, token: ALICE });
  let created;
  let jobsOf;

  await step(`session ${PIPELINES_SESSION}: Pipelines.create('main', {variables})`, async () => {
    const { data, status } = await ps.Pipelines.create(P, 'main', {
      variables: [{ key: 'K', value: 'V' }], showExpanded: true,
    });
    assert.equal(status, 201);
    created = data.id;
    assert.ok(created > 106, `new id ${created}`);
    assert.equal(data.ref, 'main');
    assert.equal(data.sha, MAIN_HEAD);
    assert.equal(data.source, 'api');
    assert.equal(data.status, 'pending');
    assert.equal(data.user.username, 'alice');
    assert.ok(!('name' in data), 'no name key (Pipeline entity)');
    const vars = await ps.Pipelines.allVariables(P, created);
    assert.deepEqual(vars, [{ variable_type: 'env_var', key: 'K', value: 'V', raw: false }]);
    jobsOf = async (id) => (await ps.Jobs.all(P, { pipelineId: id })).sort((a, b) => a.id - b.id);
    const jobs = await jobsOf(created);
    assert.deepEqual(jobs.map((j) => j.name), CI_JOBS_MAIN);
    assert.deepEqual(jobs.map((j) => j.status), ['pending', 'created', 'created', 'created', 'created']);
    assert.equal((await ps.Pipelines.showLatest(P)).id, created, 'the newest at main head');
    return `pipeline ${created}, 201, jobs ${jobs.map((j) => j.id)}`;
  });

  await step('clock moves: the new pipeline runs to success', async () => {
    await advance(3);
    assert.equal((await ps.Pipelines.show(P, created)).status, 'running');
    assert.equal((await jobsOf(created))[0].status, 'running', 'compile');
    const seen = ['running'];
    let p;
    for (let i = 0; i < 20; i += 1) {
      await advance(5);
      p = await ps.Pipelines.show(P, created);
      if (p.status !== seen.at(-1)) seen.push(p.status);
      if (p.status === 'success') break;
    }
    assert.equal(p.status, 'success');
    assert.equal(p.detailed_status.group, 'success-with-warnings');
    const jobs = await jobsOf(created);
    assert.deepEqual(jobs.map((j) => j.status), ['success', 'success', 'failed', 'success', 'manual']);
    return seen.join(' -> ');
  });

  await step("create 'feature/login' and cancel it while it runs", async () => {
    const p = await ps.Pipelines.create(P, 'feature/login');
    const jobs = await jobsOf(p.id);
    assert.deepEqual(jobs.map((j) => j.name), CI_JOBS_OTHER);
    await advance(3); // compile runs
    assert.equal((await ps.Pipelines.show(P, p.id)).status, 'running');
    // compile was picked up by runner 40, which cancels gracefully: it is canceling, the
    // jobs still waiting for their stage are canceled, and so the pipeline is canceling.
    const compile = (await jobsOf(p.id)).find((j) => j.name === 'compile');
    assert.equal(compile.runner.id, 40);
    const res = await ps.Pipelines.cancel(P, p.id, { showExpanded: true });
    assert.equal(res.status, 200);
    assert.equal(res.data.id, p.id);
    assert.deepEqual((await jobsOf(p.id)).map((j) => [j.name, j.status]),
      (await jobsOf(p.id)).map((j) => [j.name, j.name === 'compile' ? 'canceling' : 'canceled']));
    assert.equal((await ps.Pipelines.show(P, p.id)).status, 'canceling');
    await advance(60); // a canceled timeline stays put
    assert.equal((await ps.Pipelines.show(P, p.id)).status, 'canceling');
    return `pipeline ${p.id} canceled`;
  });

  await step('Pipelines.cancel(103): child 104 canceled through the bridge', async () => {
    const res = await ps.Pipelines.cancel(P, 103);
    assert.equal(res.id, 103);
    const jobs = Object.fromEntries((await ps.Jobs.all(P, { pipelineId: 103 })).map((j) => [j.id, j.status]));
    assert.deepEqual([jobs[1203], jobs[1204], jobs[1206], jobs[1211]], ['canceling', 'canceled', 'canceled', 'manual']);
    assert.equal((await ps.Pipelines.show(P, 104)).status, 'canceled');
    return `103 ${(await ps.Pipelines.show(P, 103)).status}`;
  });

  await step('Pipelines.retry(106): 201, failed/canceled jobs get new ids', async () => {
    const { data, status } = await ps.Pipelines.retry(P, 106, { showExpanded: true });
    assert.equal(status, 201);
    assert.equal(data.id, 106);
    const jobs = await ps.Jobs.all(P, { pipelineId: 106 });
    const fresh = jobs.filter((j) => j.id > MAX_JOB_ID).map((j) => [j.name, j.status]).sort();
    assert.deepEqual(fresh, [['e2e', 'pending'], ['lint', 'pending'], ['rspec', 'pending']]);
    assert.equal((await ps.Pipelines.show(P, 106)).status, 'running');
    return `${fresh.length} new jobs, 106 running`;
  });

  await step('Pipelines.remove(105): 204 -> null, then 404', async () => {
    const body = await ps.Pipelines.remove(P, 105);
    assert.equal(body, null);
    const { status } = await ps.Pipelines.remove(P, 101, { showExpanded: true });
    assert.equal(status, 204);
    await rejects(() => ps.Pipelines.show(P, 105), 404, '404 Not found');
    await rejects(() => ps.Pipelines.remove(P, 105), 404);
    await rejects(() => ps.Jobs.show(P, 1001), 404); // its jobs went with it
    assert.ok(!(await ps.Pipelines.all(P)).some((p) => [101, 105].includes(p.id)));
    return 'null, 204, 404';
  });

  await step('pipeline errors: unknown ref 400, reporter create 403, developer remove 403', async () => {
    const e = await rejects(() => ps.Pipelines.create(P, 'no-such-branch'), 400);
    assert.equal(e.message, JSON.stringify({ base: ['Reference not found'] }));
    const rita = new Gitlab({ host: sessionHost, token: RITA }).Pipelines;
    await rejects(() => rita.create(P, 'main'), 403, '403 Forbidden');
    await rejects(() => rita.retry(P, 106), 403);
    await rejects(() => rita.cancel(P, 106), 403);
    const bob = new Gitlab({ host: sessionHost, token: BOB }).Pipelines;
    await rejects(() => bob.remove(P, 102), 403, '403 Forbidden');
    return e.message;
  });

  // ---------------- the default session is untouched ----------------

  await step('default session unchanged', async () => {
    assert.deepEqual(await pl(), PIPELINES_DESC);
    assert.equal((await Pipelines.show(P, 103)).status, 'running');
    assert.equal((await Jobs.show(P, 1203)).status, 'running');
    assert.equal((await Jobs.show(P, 1107)).status, 'manual');
    assert.equal(await Jobs.showLog(P, 1001), LOG_1001);
    return 'ok';
  });

  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => { process.exitCode = code; },
  (e) => { console.error(e); process.exitCode = 2; },
);
