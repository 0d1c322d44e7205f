// Tests against dyormock from Node, with node:test and the built-in fetch
// (Node 18 or later), no package to install.
//
// One dyormock per test file, started on a free port before the tests and
// reset before each, the way docs/ci.md describes. Run from the repository
// root:
//
//   DYORMOCK=/path/to/dyormock node --test examples/node/
//
// DYORMOCK is the path of the binary (default: dyormock on PATH).

import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DYORMOCK = process.env.DYORMOCK || 'dyormock';
const API = '/api/v1/account';

let dir, proc, url;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dyormock-'));
  const urlFile = join(dir, 'dyormock.url');
  // --exit-with-parent: if this test process dies (even by SIGKILL),
  // dyormock shuts down by itself instead of living on.
  proc = spawn(DYORMOCK, ['--addr', '127.0.0.1:0', '--url-file', urlFile,
    '--bcrypt-cost', '4', '--exit-with-parent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  // The documented wait: healthcheck reads the URL file until the server
  // answers, then prints the URL (it exits 1 after 10 s, and this throws).
  url = execFileSync(DYORMOCK, ['healthcheck', '--url-file', urlFile, '--wait', '10s'],
    { encoding: 'utf8' }).trim();
});

after(async () => {
  // SIGTERM: in-flight requests finish, and it exits 0.
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const [code] = await exited;
  rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 0, `dyormock exited ${code} after SIGTERM`);
});

beforeEach(async () => {
  // Each test starts from the seeds: no sessions, faults or clock moves.
  assert.equal((await call('POST', '/_mock/reset')).status, 200);
});

// call makes one request and answers the HTTP status and the envelope.
async function call(method, path, { body, token } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const resp = await fetch(url + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: resp.status, env: await resp.json() };
}

async function login(username = 'john@API', password = 'honeyBunnies') {
  const { status, env } = await call('POST', `${API}/login`, { body: { username, password } });
  assert.equal(status, 200, JSON.stringify(env));
  return env.result.token;
}

function assertError({ status, env }, wantStatus, wantCode) {
  assert.deepEqual([status, env.ok, env.error?.code], [wantStatus, false, wantCode], JSON.stringify(env));
}

test('register, login, refresh, logout', async () => {
  const reg = await call('POST', `${API}/register`, { body: { username: 'alice', password: 'password-a' } });
  assert.deepEqual(reg, { status: 200, env: { ok: true, result: {} } });
  const first = await login('alice', 'password-a');

  // refresh is a GET with the refresh token as the Bearer token.
  const refreshed = await call('GET', `${API}/refresh`, { token: first.refresh });
  assert.equal(refreshed.status, 200);
  const second = refreshed.env.result.token;
  assert.notEqual(second.refresh, first.refresh);

  const out = await call('DELETE', `${API}/logout`, { token: second.access });
  assert.deepEqual(out, { status: 200, env: { ok: true, result: {} } });
  assertError(await call('GET', `${API}/refresh`, { token: second.refresh }), 401, 401004);
});

test('a reused refresh token revokes the session', async () => {
  const first = await login();
  const refreshed = await call('GET', `${API}/refresh`, { token: first.refresh });
  assert.equal(refreshed.status, 200);
  const second = refreshed.env.result.token;
  // The rotated token again: reuse. It is refused, and the session that
  // descended from it is revoked too.
  assertError(await call('GET', `${API}/refresh`, { token: first.refresh }), 401, 401004);
  assertError(await call('GET', `${API}/refresh`, { token: second.refresh }), 401, 401004);
});

test('a fault answers 503, then the route recovers', async () => {
  const fault = await call('POST', '/_mock/faults', { body: { route: 'login', status: 503, times: 1 } });
  assert.equal(fault.status, 200, JSON.stringify(fault.env));
  assertError(await call('POST', `${API}/login`, { body: { username: 'john@API', password: 'honeyBunnies' } }), 503, 503000);
  await login(); // the rule is used up
});

test('the clock expires the access token but not the refresh token', async () => {
  const tokens = await login();
  assert.equal((await call('POST', '/_mock/clock', { body: { advance: '16m' } })).status, 200);
  assertError(await call('DELETE', `${API}/logout`, { token: tokens.access }), 401, 401003);
  assert.equal((await call('GET', `${API}/refresh`, { token: tokens.refresh })).status, 200);
});

test('a minted session, and the journal', async () => {
  const minted = await call('POST', '/_mock/sessions', { body: { username: 'john@API', access_ttl: '1s' } });
  assert.equal(minted.status, 200, JSON.stringify(minted.env));
  assert.equal((await call('DELETE', `${API}/logout`, { token: minted.env.result.token.access })).status, 200);
  const journal = await call('GET', '/_mock/requests');
  assert.deepEqual(journal.env.result.requests.map((r) => [r.method, r.path, r.status]),
    [['DELETE', `${API}/logout`, 200]]);
});
