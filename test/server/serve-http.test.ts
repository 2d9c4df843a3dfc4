import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { type ServeProcess, startServe } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

/** A real `agentboard serve` over a real socket: the token, hostile task text. */

function board(agent: Record<string, unknown>): { home: string; root: string } {
  const root = tempDir('agentboard-http-');
  const home = path.join(root, 'home');
  fs.mkdirSync(home);
  const config = {
    agents: { bot: { kind: 'command', ...agent } },
    defaults: { agent: 'bot', max_attempts: 1 },
    board: { autostart: true },
  };
  fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify(config));
  return { home, root };
}

const servers: ServeProcess[] = [];
after(async () => {
  for (const s of servers) await s.kill('SIGKILL');
});

async function serve(home: string, args: string[] = []): Promise<ServeProcess> {
  const s = await startServe(home, { args });
  servers.push(s);
  return s;
}

function localUrl(s: ServeProcess): string {
  const port = new URL(s.url as string).port;
  return `http://127.0.0.1:${port}`;
}

describe('agentboard serve over HTTP', () => {
  it('off loopback, answers 401 without the token; the home keeps it across restarts', async () => {
    const { home } = board({ command: 'true' });
    const s = await serve(home, ['--host', '0.0.0.0']);
    assert.doesNotMatch(s.stdout, /abt_/, 'the token itself is never printed');
    const token = s.token();
    const base = localUrl(s);
    const anon = await fetch(`${base}/api/v1/tasks`);
    assert.equal(anon.status, 401);
    assert.equal(((await anon.json()) as { error: { code: string } }).error.code, 'unauthorized');
    const authed = await fetch(`${base}/api/v1/tasks`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(authed.status, 200);
    await s.stop();

    const again = await serve(home, ['--host', '0.0.0.0']);
    assert.equal(again.token(), token, 'the same token after a restart');
    const still = await fetch(`${localUrl(again)}/api/v1/tasks`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(still.status, 200);
  });

  it('on loopback by default, with the token too', async () => {
    const { home } = board({ command: 'true' });
    const s = await serve(home);
    assert.match(s.url as string, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await fetch(`${s.url}/api/v1/tasks`)).status, 401);
    assert.equal((await s.fetch('/api/v1/tasks')).status, 200);
  });

  it('passes task text with $(…) and backticks to the agent verbatim, executing nothing', async () => {
    const { home, root } = board({});
    const tag = randomBytes(6).toString('hex');
    const pwned = [`/tmp/pwned-${tag}`, `/tmp/pwned2-${tag}`, `/tmp/pwned3-${tag}`];
    const received = path.join(root, 'prompt.txt');
    // The agent stores its stdin (the prompt) byte for byte.
    const config = JSON.parse(fs.readFileSync(path.join(home, 'config.yaml'), 'utf8'));
    config.agents.bot = { kind: 'command', command: 'sh', args: ['-c', 'cat > "$0"', received] };
    fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify(config));
    const s = await serve(home);

    const title = `Fix $(touch ${pwned[0]}) now`;
    const body = `Run \`touch ${pwned[1]}\`; echo $HOME ; $(touch ${pwned[2]}) | rm -rf "$0" && 'quoted' "dq"`;
    const created = await s.fetch('/api/v1/tasks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title, body }),
    });
    assert.equal(created.status, 201);
    const task = (await created.json()) as { id: string };

    const deadline = Date.now() + 20_000;
    let state = '';
    while (Date.now() < deadline) {
      const runs = (await (await s.fetch(`/api/v1/runs?task=${task.id}`)).json()) as {
        items: { state: string }[];
      };
      state = runs.items[0]?.state ?? '';
      if (state === 'succeeded' || state === 'failed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(state, 'succeeded');
    assert.equal(fs.readFileSync(received, 'utf8'), `# ${task.id}: ${title}\n\n${body}\n`);
    for (const f of pwned) assert.equal(fs.existsSync(f), false, `${f} must not exist`);
  });
});
