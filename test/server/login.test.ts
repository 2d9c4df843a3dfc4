/**
 * A token everywhere, with no friction: a real `agentboard serve` wants the
 * owner's token on loopback too; the CLI reads it from the home (0600 in a
 * 0700 folder); the one-time login URL sets the cookie once; `server.auth:
 * none` is possible on loopback only.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { apiTokenFile, ensureApiToken } from '../../src/app/api-token.js';
import { AuthFailureLimiter } from '../../src/server/auth-limiter.js';
import { LOGIN_CODE_TTL_MS, LoginCodes, loginCodesOf } from '../../src/server/routes/login.js';
import { apiBoard } from '../support/api.js';
import { runCli, type ServeProcess, startServe } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { assertErrorShape } from './error-shape.js';

function newHome(server: Record<string, unknown> = {}): string {
  const root = tempDir('agentboard-login-');
  const home = path.join(root, 'home');
  fs.mkdirSync(home);
  const config = {
    agents: { bot: { kind: 'command', command: 'true' } },
    board: { autostart: false },
    server,
  };
  fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify(config));
  return home;
}

const servers: ServeProcess[] = [];
after(async () => {
  for (const s of servers) await s.kill('SIGKILL');
});

async function serve(home: string, args: string[] = []): Promise<ServeProcess> {
  const s = await startServe(home, { args, timeoutMs: 60_000 });
  servers.push(s);
  return s;
}

/** A fetch answer, checked for the one error shape. */
async function errorOf(res: Response, where: string) {
  const body = await res.text();
  return assertErrorShape(
    {
      statusCode: res.status,
      headers: { 'content-type': res.headers.get('content-type') ?? '' },
      body,
    },
    where,
  );
}

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('a real serve on loopback needs the token', () => {
  it('refuses a tokenless request in the one error shape; takes the Bearer token and the cookie', async () => {
    const home = newHome();
    const s = await serve(home);
    assert.match(s.url as string, /^http:\/\/127\.0\.0\.1:\d+$/);
    const token = s.token();
    assert.match(token, /^abt_[\w-]{40,}$/);

    for (const [what, headers] of [
      ['no token', {}],
      ['a wrong token', { authorization: 'Bearer abt_wrong' }],
      ['a wrong cookie', { cookie: 'agentboard_token=abt_wrong' }],
    ] as const) {
      const r = await fetch(`${s.url}/api/v1/tasks`, { headers });
      assert.equal(r.status, 401, what);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="agentboard"');
      const e = await errorOf(r, what);
      assert.equal(e.code, 'unauthorized');
      assert.match(e.message, /agentboard token show/);
    }
    const write = await fetch(`${s.url}/api/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'anonymous' }),
    });
    assert.equal(write.status, 401, 'a write without the token');

    assert.equal((await s.fetch('/api/v1/tasks')).status, 200, 'Bearer');
    const byCookie = await fetch(`${s.url}/api/v1/tasks`, {
      headers: { cookie: `agentboard_token=${encodeURIComponent(token)}` },
    });
    assert.equal(byCookie.status, 200, 'cookie');
    const list = (await byCookie.json()) as { total: number };
    assert.equal(list.total, 0, 'the anonymous write made nothing');
    // The page shell and /healthz hold no data: they load without it, to show the login form.
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
  });

  it('keeps the token in the home, 0600 in a 0700 folder, and never prints it', async () => {
    const home = newHome();
    const s = await serve(home);
    assert.equal(mode(apiTokenFile(home)), 0o600);
    assert.equal(mode(home), 0o700);
    assert.equal(fs.readFileSync(apiTokenFile(home), 'utf8'), `${s.token()}\n`);
    assert.doesNotMatch(s.stdout + s.stderr, /abt_/);
  });
});

describe('the one-time login URL', () => {
  it('sets the HttpOnly cookie once and redirects to the board; a second use is refused and sets nothing', async () => {
    const home = newHome();
    const s = await serve(home);
    const link = s.loginUrl;
    assert.ok(link, s.stdout);
    assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/login\?code=[\w-]{20,}$/);

    const first = await fetch(link, { redirect: 'manual' });
    assert.equal(first.status, 303);
    assert.equal(first.headers.get('location'), '/');
    const cookie = first.headers.get('set-cookie') ?? '';
    const value = /^agentboard_token=([^;]+)/.exec(cookie)?.[1];
    assert.equal(value && decodeURIComponent(value), s.token());
    for (const attr of ['HttpOnly', 'SameSite=Strict', 'Path=/']) {
      assert.ok(cookie.split(/;\s*/).includes(attr), `${attr} in ${cookie}`);
    }
    // The cookie it set is a working login.
    const withCookie = await fetch(`${s.url}/api/v1/tasks`, {
      headers: { cookie: `agentboard_token=${value}` },
    });
    assert.equal(withCookie.status, 200);

    const second = await fetch(link, { redirect: 'manual' });
    assert.equal(second.status, 401);
    assert.equal(second.headers.get('set-cookie'), null, 'a used link sets nothing');
    const e = await errorOf(second, 'a used link');
    assert.equal(e.code, 'unauthorized');
    assert.match(e.message, /agentboard open/);

    for (const bad of ['nope', '', `${new URL(link).searchParams.get('code')}x`]) {
      const r = await fetch(`${s.url}/login?code=${bad}`, { redirect: 'manual' });
      assert.equal(r.status, 401, `code "${bad}"`);
      assert.equal(r.headers.get('set-cookie'), null);
      await errorOf(r, `code "${bad}"`);
    }
    // Without a code, /login is the board's page (its login form).
    const page = await fetch(`${s.url}/login`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  });

  it('`agentboard open` asks the running server for a fresh link with the token from the home', async () => {
    const home = newHome();
    const s = await serve(home);
    const r = await runCli(home, ['open', '--url', s.url as string], {
      env: { AGENTBOARD_NO_BROWSER: '1' },
    });
    assert.equal(r.code, 0, r.stderr);
    const link = r.stdout.trim();
    assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/login\?code=[\w-]{20,}$/);
    assert.notEqual(link, s.loginUrl, 'a new link, not the printed one');
    assert.equal((await fetch(link, { redirect: 'manual' })).status, 303);
    assert.equal((await fetch(link, { redirect: 'manual' })).status, 401, 'once only');

    // Nobody without the token gets a link.
    const anon = await fetch(`${s.url}/api/v1/login-links`, {
      method: 'POST',
      headers: { 'x-agentboard-request': '1' },
    });
    assert.equal(anon.status, 401);
    await errorOf(anon, 'login-links without a token');

    // No server there: one line saying what to do.
    await s.stop();
    const down = await runCli(home, ['open', '--url', s.url as string], {
      env: { AGENTBOARD_NO_BROWSER: '1' },
    });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^error: no board answers at .*agentboard serve/m);
  });

  it('a wrong code counts against the failed-auth limit; a right one still passes', async () => {
    const limiter = new AuthFailureLimiter({ limit: 3 });
    const api = await apiBoard({ security: { verifyToken: () => false, authLimiter: limiter } });
    try {
      ensureApiToken(api.app.paths.home);
      const get = (code: string) =>
        api.server.inject({ method: 'GET', url: `/login?code=${code}`, remoteAddress: '10.0.0.7' });
      for (let i = 0; i < 3; i++) assert.equal((await get('guess')).statusCode, 401, `#${i}`);
      const blocked = await get('guess');
      assert.equal(blocked.statusCode, 429);
      assert.equal(assertErrorShape(blocked).code, 'too_many_auth_failures');
      assert.ok(Number(blocked.headers['retry-after']) > 0);
      const good = loginCodesOf(api.server).issue();
      const ok = await get(good);
      assert.equal(ok.statusCode, 303, 'the owner is not locked out');
      assert.match(String(ok.headers['set-cookie']), /^agentboard_token=abt_/);
    } finally {
      await api.close();
    }
  });

  it('a code expires after ten minutes, and works once', () => {
    const codes = new LoginCodes();
    const now = 1_000_000;
    const a = codes.issue(now);
    const b = codes.issue(now);
    assert.notEqual(a, b);
    assert.equal(codes.take(a, now + LOGIN_CODE_TTL_MS + 1), false, 'expired');
    assert.equal(codes.take(a, now), false, 'and gone');
    assert.equal(codes.take(b, now + LOGIN_CODE_TTL_MS - 1), true);
    assert.equal(codes.take(b, now), false, 'used');
    for (let i = 0; i < 500; i++) codes.issue(now);
    assert.ok(codes.size <= 100, `bounded: ${codes.size}`);
  });
});

describe('server.auth: none', () => {
  it('serves without a token on loopback', async () => {
    const home = newHome({ auth: 'none' });
    const s = await serve(home);
    assert.equal((await fetch(`${s.url}/api/v1/tasks`)).status, 200);
    assert.match(s.stdout, /no API token needed \(server\.auth: none\)/);
    assert.equal(fs.existsSync(apiTokenFile(home)), false, 'no token is made');
  });

  it('refuses to start off loopback, saying what to do', async () => {
    const home = newHome({ auth: 'none' });
    const r = await runCli(home, ['serve', '--host', '0.0.0.0', '--port', '0'], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^error: server\.auth: none .*only on loopback.*0\.0\.0\.0/m);
    assert.match(r.stderr, /remove "auth: none"/);
    assert.doesNotMatch(r.stdout, /^board: /m, 'it never listened');
  });
});

describe('agentboard token show / rotate', () => {
  it('show prints the token a running server takes; rotate replaces it at once', async () => {
    const home = newHome();
    const s = await serve(home);
    const shown = await runCli(home, ['token', 'show']);
    assert.equal(shown.code, 0, shown.stderr);
    const old = shown.stdout.trim();
    assert.equal(old, s.token());
    const get = (token: string) =>
      fetch(`${s.url}/api/v1/tasks`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await get(old)).status, 200);

    const rotated = await runCli(home, ['token', 'rotate']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const fresh = rotated.stdout.trim();
    assert.match(fresh, /^abt_[\w-]{40,}$/);
    assert.notEqual(fresh, old);
    assert.equal(mode(apiTokenFile(home)), 0o600);
    assert.equal((await get(old)).status, 401, 'the old token stopped working');
    assert.equal((await get(fresh)).status, 200, 'the new one works at once');
    assert.equal((await runCli(home, ['token', 'show'])).stdout.trim(), fresh);
    // A login link still sets the cookie to the current token.
    const open = await runCli(home, ['open', '--url', s.url as string], {
      env: { AGENTBOARD_NO_BROWSER: '1' },
    });
    assert.equal(open.code, 0, open.stderr);
    const set = (await fetch(open.stdout.trim(), { redirect: 'manual' })).headers.get('set-cookie');
    assert.match(set ?? '', new RegExp(`^agentboard_token=${fresh}`));
  });

  it("an older home's hash-only token is replaced once, with one line on stderr", async () => {
    const home = newHome();
    const legacy = path.join(home, 'api-token.sha256');
    fs.writeFileSync(legacy, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
    const s = await serve(home);
    assert.equal(fs.existsSync(legacy), false, 'the hash file is gone');
    assert.match(s.stderr, /token this board had before no longer works.*agentboard token show/);
    assert.equal((await s.fetch('/api/v1/tasks')).status, 200);
    await s.stop();
    const again = await serve(home);
    assert.doesNotMatch(again.stderr, /had before/, 'said once');
  });

  it('processes making the token at once all get the same one', async () => {
    const home = newHome();
    const module = fileURLToPath(new URL('../../src/app/api-token.js', import.meta.url));
    const script = `import { ensureApiToken } from ${JSON.stringify(module)}; process.stdout.write(ensureApiToken(process.argv[1]).token);`;
    const outs = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script, home], {
              stdio: ['ignore', 'pipe', 'inherit'],
            });
            let out = '';
            child.stdout.setEncoding('utf8').on('data', (d: string) => {
              out += d;
            });
            child.once('error', reject);
            child.once('close', (code) =>
              code === 0 ? resolve(out) : reject(new Error(`exit ${code}`)),
            );
          }),
      ),
    );
    assert.equal(new Set(outs).size, 1, outs.join('\n'));
    assert.equal(fs.readFileSync(apiTokenFile(home), 'utf8').trim(), outs[0]);
    assert.deepEqual(
      fs.readdirSync(home).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary file left',
    );
  });
});
