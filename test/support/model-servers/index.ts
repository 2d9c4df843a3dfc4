/** Scripted model API servers for the real agent CLIs, by CLI kind. Not a test file. */
import { anthropicToolResults, startAnthropicServer } from './anthropic.js';
import type { CliKind } from './cli-env.js';
import { geminiToolResults, startGeminiServer } from './gemini.js';
import type { CapturedRequest, ModelServer, ServerOptions } from './http.js';
import { openaiChatToolResults, startOpenAIChatServer } from './openai-chat.js';
import { responsesToolResults, startResponsesServer } from './openai-responses.js';
import type { Scenario } from './scenario.js';

export { anthropicToolResults, startAnthropicServer } from './anthropic.js';
export {
  CLI_KINDS,
  type CliEnvOptions,
  type CliKind,
  type CliSetup,
  cliBin,
  cliEnv,
  promptArgs,
} from './cli-env.js';
export { geminiToolResults, startGeminiServer } from './gemini.js';
export type { CapturedRequest, ModelServer, RequestKind, ServerOptions } from './http.js';
export { openaiChatToolResults, startOpenAIChatServer } from './openai-chat.js';
export { responsesToolResults, startResponsesServer } from './openai-responses.js';
export { assistantText, type CliRun, jsonLines, type RunCliOptions, runCli } from './run-cli.js';
export type { ErrorScenario, ModelTurn, Scenario, ToolCall } from './scenario.js';

/** Starts the server speaking the API `kind`'s CLI calls. */
export function startModelServer(
  kind: CliKind,
  scenario: Scenario,
  opts?: ServerOptions,
): Promise<ModelServer> {
  switch (kind) {
    case 'claude':
    case 'opencode':
      return startAnthropicServer(scenario, opts);
    case 'copilot':
    case 'qwen':
      return startOpenAIChatServer(scenario, opts);
    case 'codex':
      return startResponsesServer(scenario, opts);
    case 'gemini':
      return startGeminiServer(scenario, opts);
  }
}

/** The text of every tool result the CLI sent back to the server, in order. */
export function toolResults(kind: CliKind, requests: CapturedRequest[]): string[] {
  switch (kind) {
    case 'claude':
    case 'opencode':
      return anthropicToolResults(requests).map((r) => r.content);
    case 'copilot':
    case 'qwen':
      return openaiChatToolResults(requests).map((r) => r.content);
    case 'codex':
      return responsesToolResults(requests).map((r) => r.output);
    case 'gemini':
      return geminiToolResults(requests).map((r) => r.response);
  }
}
