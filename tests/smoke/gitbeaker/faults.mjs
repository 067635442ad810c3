#!/usr/bin/env node
// Smoke test: @gitbeaker/rest's own retry logic against glmock's fault rules.
//
//     node faults.mjs http://127.0.0.1:PORT
//
// The server must serve fixtures/examples/showcase.yaml (tests/smoke/run.sh starts it). Each
// step resets its own session, adds fault rules there with POST /-/glmock/faults, drives
// gitbeaker, and proves from the journal what the client sent. gitbeaker's request handler
// retries 429 and 502 only, up to 10 tries in all, with a short backoff of its own (it does
// not read Retry-After); any other error status is thrown at once.
//
// Prints one line per step and a closing `N passed, N failed` line; exits 1 if any failed.

import assert from 'node:assert/strict';

import { Gitlab, GitbeakerRequestError, GitbeakerRetryError } from '@gitbeaker/rest';

const ALICE = 'glpat-alice'; // owner of group/project (id 10) in showcase.yaml
const PROJECT_ID = 10;
const url = (process.argv[2] || '').replace(/\/$/, '');
if (!url) {
  console.error('usage: node faults.mjs http://127.0.0.1:PORT');
  process.exit(2);
}

const results = [];
async function step(name, fn) {
  try {
    await fn();
    results.push(true);
    console.log(`ok   ${name}`);
  } catch (e) {
    results.push(false);
    console.log(`FAIL ${name}`);
    console.log(e);
  }
}

async function control(method, path, body) {
  const r = await fetch(`${url}/-/glmock${path}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

/** A fresh session with `rules`, and a gitbeaker client inside it. */
async function session(name, rules) {
  assert.equal((await control('POST', `/reset?session=${name}`)).status, 200);
  const added = await control('POST', `/faults?session=${name}`, rules);
  assert.equal(added.status, 201, JSON.stringify(added.body));
  return new Gitlab({ host: `${url}/-/sessions/${name}`, token: ALICE });
}

/** `[status, faults]` of every journal entry of `path` in `session`. */
async function journal(session, path) {
  const r = await control('GET', `/journal?session=${session}&path=${encodeURIComponent(`/api/v4${path}`)}`);
  return r.body.entries.map((e) => [e.status, e.faults || []]);
}

const jobs = `/projects/${PROJECT_ID}/jobs`;

await step('two 502 pages are retried, then the jobs list', async () => {
  const api = await session('gb-faults-502', {
    id: 'bad-gateway', match: { route: '/projects/:id/jobs' }, when: { times: 2 }, then: { status: 502 },
  });
  const list = await api.Jobs.all(PROJECT_ID, { perPage: 20, maxPages: 1 });
  assert.equal(list.length, 20);
  assert.deepEqual(await journal('gb-faults-502', jobs), [[502, ['bad-gateway']], [502, ['bad-gateway']], [200, []]]);
});

await step('a Rack::Attack 429 is retried', async () => {
  const api = await session('gb-faults-429', {
    id: 'throttled', match: { route: '/projects/:id' }, when: { times: 1 },
    then: { throttle: { period_in_seconds: 1 } },
  });
  const project = await api.Projects.show(PROJECT_ID);
  assert.equal(project.path_with_namespace, 'group/project');
  assert.deepEqual(await journal('gb-faults-429', `/projects/${PROJECT_ID}`), [[429, ['throttled']], [200, []]]);
});

await step('a 503 is not retried: thrown at once', async () => {
  const api = await session('gb-faults-503', {
    id: 'down', match: { route: '/projects/:id/jobs' }, then: { status: 503 },
  });
  await assert.rejects(api.Jobs.all(PROJECT_ID, { perPage: 20, maxPages: 1 }), (e) => {
    assert.ok(e instanceof GitbeakerRequestError, String(e));
    assert.equal(e.cause.response.status, 503);
    return true;
  });
  assert.deepEqual(await journal('gb-faults-503', jobs), [[503, ['down']]]);
});

await step('a 502 that lasts: ten tries, then GitbeakerRetryError', async () => {
  const api = await session('gb-faults-giveup', {
    id: 'gone', match: { route: '/projects/:id' }, then: { status: 502 },
  });
  await assert.rejects(api.Projects.show(PROJECT_ID), (e) => {
    assert.ok(e instanceof GitbeakerRetryError, String(e));
    assert.match(e.message, /after 10 retries, last status code: 502/);
    return true;
  });
  const seen = await journal('gb-faults-giveup', `/projects/${PROJECT_ID}`);
  assert.deepEqual(seen, Array(10).fill([502, ['gone']]));
});

const passed = results.filter(Boolean).length;
console.log(`${passed} passed, ${results.length - passed} failed`);
process.exit(passed === results.length ? 0 : 1);
