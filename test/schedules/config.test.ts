import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configSchema } from '../../src/config/schema.js';

const agent = (extra: Record<string, unknown>) => ({
  agents: { bot: { kind: 'command', command: 'true', ...extra } },
});

function issues(raw: unknown): string[] {
  const r = configSchema.safeParse(raw);
  assert.equal(r.success, false, 'the config is refused');
  return r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
}

describe('agent profile config', () => {
  test('instructions, memory_file and heartbeat are accepted', () => {
    const c = configSchema.parse(
      agent({
        instructions: 'Be terse.',
        memory_file: 'mem/bot.md',
        heartbeat: { cron: '*/30 9-17 * * 1-5', prompt: 'Check CI.', timezone: 'Europe/Paris' },
      }),
    );
    assert.equal(c.agents.bot?.instructions, 'Be terse.');
    assert.deepEqual(c.agents.bot?.heartbeat, {
      cron: '*/30 9-17 * * 1-5',
      prompt: 'Check CI.',
      timezone: 'Europe/Paris',
    });
  });

  test('instructions and instructions_file are mutually exclusive', () => {
    assert.deepEqual(issues(agent({ instructions: 'a', instructions_file: 'b.md' })), [
      'agents.bot.instructions_file: instructions and instructions_file are mutually exclusive: keep one',
    ]);
  });

  test('a heartbeat with a bad cron or time zone is refused at load, naming it', () => {
    const [cron] = issues(agent({ heartbeat: { cron: 'hourly' } }));
    assert.match(cron ?? '', /^agents\.bot\.heartbeat: "hourly" is not a valid cron expression/);
    const [tz] = issues(agent({ heartbeat: { cron: '0 * * * *', timezone: 'Paris' } }));
    assert.match(tz ?? '', /^agents\.bot\.heartbeat: "Paris" is not a time zone/);
    assert.ok(issues(agent({ heartbeat: { cron: '0 * * * *', every: 5 } })).length > 0);
  });
});
