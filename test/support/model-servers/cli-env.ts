/**
 * How to point each real agent CLI at a scripted model server and run it headless. Not a test file.
 *
 * `cliEnv(kind, serverUrl, tmpHome)` writes the CLI's config files into the fresh `tmpHome` and
 * returns the binary, the base argv (append {@link promptArgs}) and a COMPLETE environment: use it
 * as is rather than merging it into `process.env`, so nothing from the host (API keys, base URLs,
 * config dirs) leaks in.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type CliKind = 'claude' | 'codex' | 'gemini' | 'opencode' | 'copilot' | 'qwen';
export const CLI_KINDS: readonly CliKind[] = [
  'claude',
  'codex',
  'gemini',
  'opencode',
  'copilot',
  'qwen',
];

export interface CliEnvOptions {
  /** Model name to request (each CLI has a default). */
  model?: string;
  /** Resume this session/thread id instead of starting a new one. */
  resume?: string;
  /**
   * Bound the CLI's retries of failed API calls (claude: CLAUDE_CODE_MAX_RETRIES, codex:
   * request_max_retries/stream_max_retries, gemini: general.maxAttempts = retries + 1).
   * Default: the CLI's own default.
   */
  maxRetries?: number;
  /** API key the CLI sends. Default `sk-scripted-test`. */
  apiKey?: string;
}

export interface CliSetup {
  kind: CliKind;
  /** Absolute path of the CLI executable (node_modules/.bin/<kind>). */
  bin: string;
  /** Base arguments; append `promptArgs(kind, prompt)`. */
  argv: string[];
  /** The complete environment for the child. */
  env: Record<string, string>;
}

const here = dirname(fileURLToPath(import.meta.url));

/** node_modules/.bin/<name>, found upwards from this file (works from test/ and dist/test/). */
export function cliBin(kind: CliKind): string {
  let dir = here;
  for (;;) {
    const p = join(dir, 'node_modules', '.bin', kind);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) throw new Error(`node_modules/.bin/${kind} not found above ${here}`);
    dir = up;
  }
}

/** Vars every CLI gets: a fresh HOME, PATH, a UTF-8 locale, no color, temp files inside HOME. */
function baseEnv(tmpHome: string): Record<string, string> {
  const tmp = join(tmpHome, 'tmp');
  mkdirSync(tmp, { recursive: true });
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: tmpHome,
    USER: process.env.USER ?? 'root',
    LANG: 'C.UTF-8',
    TMPDIR: tmp,
    NO_COLOR: '1',
  };
}

/**
 * The prompt arguments: claude, codex, opencode and qwen take it positionally, gemini and copilot
 * as `-p <prompt>` (agentboard itself writes it to their stdin).
 */
export function promptArgs(kind: CliKind, prompt: string): string[] {
  return kind === 'gemini' || kind === 'copilot' ? ['-p', prompt] : [prompt];
}

/**
 * Copilot CLI unpacks its 235 MB package into `$XDG_CACHE_HOME/copilot` on first start: one cache
 * shared by every test HOME keeps that to once per machine.
 */
export const COPILOT_CACHE = join(tmpdir(), 'agentboard-test-copilot-cache');

/** The opencode provider id the scripted config defines; models are `local/<model>`. */
export const OPENCODE_PROVIDER = 'local';

export function cliEnv(
  kind: CliKind,
  serverUrl: string,
  tmpHome: string,
  opts: CliEnvOptions = {},
): CliSetup {
  const home = resolve(tmpHome);
  mkdirSync(home, { recursive: true });
  const url = serverUrl.replace(/\/+$/, '');
  const key = opts.apiKey ?? 'sk-scripted-test';
  const env = baseEnv(home);
  const bin = cliBin(kind);

  if (kind === 'claude') {
    Object.assign(env, {
      ANTHROPIC_BASE_URL: url,
      ANTHROPIC_API_KEY: key,
      // No telemetry, error reporting, auto-update or other non-API hosts.
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      // As root, bypassPermissions is refused unless the CLI is told it runs in a sandbox.
      IS_SANDBOX: '1',
    });
    if (opts.maxRetries !== undefined) env.CLAUDE_CODE_MAX_RETRIES = String(opts.maxRetries);
    const argv = [
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--permission-mode',
      'bypassPermissions',
    ];
    if (opts.model) argv.push('--model', opts.model);
    if (opts.resume) argv.push('--resume', opts.resume);
    return { kind, bin, argv, env };
  }

  if (kind === 'codex') {
    const codexHome = join(home, '.codex');
    mkdirSync(codexHome, { recursive: true });
    const retries =
      opts.maxRetries === undefined
        ? ''
        : `request_max_retries = ${opts.maxRetries}\nstream_max_retries = ${opts.maxRetries}\n`;
    writeFileSync(
      join(codexHome, 'config.toml'),
      [
        `model = ${JSON.stringify(opts.model ?? 'gpt-5.5')}`,
        'model_provider = "local"',
        'check_for_update_on_startup = false',
        '',
        '[analytics]',
        'enabled = false',
        '',
        '# The curated-plugins sync calls github.com, api.github.com and chatgpt.com.',
        '[features]',
        'plugins = false',
        '',
        '[model_providers.local]',
        'name = "local"',
        `base_url = ${JSON.stringify(`${url}/v1`)}`,
        'env_key = "OPENAI_API_KEY"',
        'wire_api = "responses"',
        retries,
      ].join('\n'),
    );
    Object.assign(env, { CODEX_HOME: codexHome, OPENAI_API_KEY: key });
    // The workspace-write sandbox works in this container (writes outside cwd fail with
    // "Read-only file system"). `exec resume` has no --sandbox flag, hence -c there.
    const argv = opts.resume
      ? [
          'exec',
          'resume',
          '--json',
          '--skip-git-repo-check',
          '-c',
          'sandbox_mode="workspace-write"',
          opts.resume,
        ]
      : ['exec', '--json', '--skip-git-repo-check', '--sandbox', 'workspace-write'];
    return { kind, bin, argv, env };
  }

  if (kind === 'opencode') {
    // A custom provider on the Anthropic wire (`@ai-sdk/anthropic` is bundled in the binary).
    const model = (opts.model ?? 'claude-scripted').replace(/^local\//, '');
    const dir = join(home, '.config', 'opencode');
    mkdirSync(dir, { recursive: true });
    const config = {
      $schema: 'https://opencode.ai/config.json',
      autoupdate: false,
      share: 'disabled',
      model: `${OPENCODE_PROVIDER}/${model}`,
      provider: {
        [OPENCODE_PROVIDER]: {
          npm: '@ai-sdk/anthropic',
          name: 'Local scripted',
          options: { baseURL: `${url}/v1`, apiKey: '{env:OPENCODE_API_KEY}' },
          models: { [model]: { name: model, tool_call: true } },
        },
      },
    };
    writeFileSync(join(dir, 'opencode.json'), `${JSON.stringify(config, null, 2)}\n`);
    Object.assign(env, {
      OPENCODE_API_KEY: key,
      // No models.dev fetch, update check, npm-installed plugins, LSP downloads or sharing.
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
      OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
      OPENCODE_DISABLE_SHARE: '1',
    });
    const argv = ['run', '--format', 'json'];
    if (opts.resume) argv.push(`--session=${opts.resume}`);
    return { kind, bin, argv, env };
  }

  if (kind === 'copilot') {
    // Bring-your-own provider on the OpenAI chat completions wire: no GitHub login.
    Object.assign(env, {
      COPILOT_OFFLINE: 'true',
      COPILOT_PROVIDER_BASE_URL: `${url}/v1`,
      COPILOT_PROVIDER_TYPE: 'openai',
      COPILOT_PROVIDER_API_KEY: key,
      COPILOT_MODEL: opts.model ?? 'gpt-scripted',
      XDG_CACHE_HOME: COPILOT_CACHE,
    });
    const argv = ['--output-format', 'json', '--allow-all-tools'];
    if (opts.resume) argv.push(`--resume=${opts.resume}`);
    return { kind, bin, argv, env };
  }

  if (kind === 'qwen') {
    // Chat completions with an OpenAI-compatible key; no background memory extraction (it makes
    // extra requests with tools after a run), no telemetry or update checks.
    const qwenDir = join(home, '.qwen');
    mkdirSync(qwenDir, { recursive: true });
    const settings: Record<string, unknown> = {
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      general: { enableAutoUpdate: false },
      memory: {
        enableManagedAutoMemory: false,
        enableManagedAutoDream: false,
        enableAutoSkill: false,
      },
      ...(opts.maxRetries === undefined
        ? {}
        : { model: { generationConfig: { maxRetries: opts.maxRetries } } }),
    };
    writeFileSync(join(qwenDir, 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
    Object.assign(env, {
      OPENAI_BASE_URL: `${url}/v1`,
      OPENAI_API_KEY: key,
      QWEN_CODE_SUPPRESS_YOLO_WARNING: '1',
    });
    const argv = [
      '-o',
      'stream-json',
      '--auth-type',
      'openai',
      '--yolo',
      '-m',
      opts.model ?? 'qwen-scripted',
    ];
    if (opts.resume) argv.push(`--resume=${opts.resume}`);
    return { kind, bin, argv, env };
  }

  // gemini
  const geminiDir = join(home, '.gemini');
  mkdirSync(geminiDir, { recursive: true });
  const settings: Record<string, unknown> = {
    security: { auth: { selectedType: 'gemini-api-key' } },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    general: {
      enableAutoUpdate: false,
      enableAutoUpdateNotification: false,
      ...(opts.maxRetries === undefined ? {} : { maxAttempts: opts.maxRetries + 1 }),
    },
  };
  writeFileSync(join(geminiDir, 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  Object.assign(env, {
    GOOGLE_GEMINI_BASE_URL: url,
    GEMINI_API_KEY: key,
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
    GEMINI_TELEMETRY_ENABLED: 'false',
    // Skip re-spawning itself with a bigger heap (saves ~1.5 s per run).
    GEMINI_CLI_NO_RELAUNCH: 'true',
  });
  // An explicit model: with the default "auto", every prompt first makes a routing side call
  // (flash-lite :generateContent with a JSON schema) whose own 5 retries ignore maxAttempts.
  const argv = [
    '--output-format',
    'stream-json',
    '--approval-mode',
    'yolo',
    '--model',
    opts.model ?? 'gemini-2.5-flash',
  ];
  if (opts.resume) argv.push('--resume', opts.resume);
  return { kind, bin, argv, env };
}
