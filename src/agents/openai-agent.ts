/**
 * The OpenAI-compatible agent (HERALD_AGENT=openai): streams a chat completion from any
 * service that speaks the OpenAI chat completions API (OpenAI, Azure-style proxies, vLLM,
 * Ollama, LM Studio…). Every failure becomes HeraldError('upstream_failed') with a short,
 * safe reason; an abort through `request.signal` ends the reply quietly.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { HeraldError } from '../errors/catalogue.js';
import type { AgentRequest, ModelAgent } from './model-agent.js';

export interface OpenAIAgentOptions {
  /** e.g. https://api.openai.com/v1 (OPENAI_BASE_URL). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; absent = no Authorization header at all. */
  apiKey?: string;
  model: string;
  /**
   * Milliseconds without progress before upstream_failed: until the response headers, and
   * then between two stream chunks (an idle timer, reset on every chunk).
   */
  timeoutMs: number;
}

export const OPENAI_SYSTEM_PROMPT =
  'You are the assistant of a chat service called Herald. Answer helpfully and concisely, ' +
  'in plain text with light Markdown. Never output HTML.';

export function createOpenAIAgent(options: OpenAIAgentOptions): ModelAgent {
  const { model, timeoutMs } = options;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new TypeError('timeoutMs must be a positive integer');
  const client = new OpenAI({
    baseURL: options.baseUrl,
    // The SDK insists on a key; without one, send none at all (Authorization: null drops the header).
    apiKey: options.apiKey ?? 'none',
    ...(options.apiKey === undefined ? { defaultHeaders: { Authorization: null } } : {}),
    adminAPIKey: null,
    maxRetries: 0,
    timeout: timeoutMs,
    // The SDK would log unparsable upstream data to the console; failures reach our callers instead.
    logLevel: 'off',
  });

  return {
    name: 'openai',
    async *reply(request: AgentRequest): AsyncGenerator<string, void, undefined> {
      const { signal } = request;
      if (signal.aborted) return;

      // One controller per call: aborted by the caller's signal, by the idle timer, or when
      // the consumer stops early (finally), so the HTTP connection never outlives the reply.
      const controller = new AbortController();
      const onAbort = () => controller.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      let timedOut = false;
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, timeoutMs);
      };
      const disarm = () => clearTimeout(timer);

      let streaming = false; // the response headers came: the stream is open
      let finished = false; // a chunk carried finish_reason: the reply is whole
      try {
        try {
          arm();
          const stream = await client.chat.completions.create(
            {
              model,
              messages: [
                { role: 'system', content: OPENAI_SYSTEM_PROMPT },
                ...request.history.map((turn) => ({ role: turn.role, content: turn.content })),
                { role: 'user', content: request.text },
              ],
              stream: true,
            },
            { signal: controller.signal, timeout: timeoutMs },
          );
          streaming = true;
          arm();
          for await (const chunk of stream) {
            const { content, finishReason } = readChunk(chunk);
            if (finishReason) finished = true;
            if (content) {
              // The timer measures the upstream, not our consumer: pause it while we wait.
              disarm();
              yield content;
              if (signal.aborted) return;
            }
            arm();
          }
        } catch (err) {
          if (signal.aborted) return;
          if (finished) return; // the reply is whole: a hiccup before [DONE] does not matter
          throw upstreamFailed(failureReason(err, { timedOut, streaming, timeoutMs }), err);
        }
        // The SDK ends the iteration quietly when the controller aborts: find out why.
        if (signal.aborted || finished) return;
        if (timedOut) throw upstreamFailed(`timed out after ${timeoutMs} ms`);
        throw upstreamFailed('stream ended early');
      } finally {
        disarm();
        signal.removeEventListener('abort', onAbort);
        controller.abort(); // no-op when the stream ended; closes the connection otherwise
      }
    },
  };
}

class InvalidChunkError extends Error {
  override name = 'InvalidChunkError';
}

/** Validates one parsed chunk (the SDK does not) and returns what we need of it. */
function readChunk(chunk: unknown): { content: string; finishReason: string | null } {
  if (typeof chunk !== 'object' || chunk === null) throw new InvalidChunkError('chunk is not an object');
  const choices = (chunk as { choices?: unknown }).choices;
  if (!Array.isArray(choices)) throw new InvalidChunkError('chunk has no choices array');
  const choice: unknown = choices[0];
  if (choice === undefined) return { content: '', finishReason: null }; // e.g. a usage-only chunk
  if (typeof choice !== 'object' || choice === null) throw new InvalidChunkError('choice is not an object');
  const { delta, finish_reason } = choice as { delta?: unknown; finish_reason?: unknown };
  if (finish_reason !== null && finish_reason !== undefined && typeof finish_reason !== 'string')
    throw new InvalidChunkError('finish_reason is not a string');
  let content = '';
  if (delta !== undefined && delta !== null) {
    if (typeof delta !== 'object') throw new InvalidChunkError('delta is not an object');
    const c = (delta as { content?: unknown }).content;
    if (c !== undefined && c !== null && typeof c !== 'string')
      throw new InvalidChunkError('content is not a string');
    content = c ?? '';
  }
  return { content, finishReason: finish_reason ?? null };
}

/** A short reason that is safe to show: never the key, never the upstream body. */
function failureReason(
  err: unknown,
  ctx: { timedOut: boolean; streaming: boolean; timeoutMs: number },
): string {
  if (ctx.timedOut || err instanceof APIConnectionTimeoutError) return `timed out after ${ctx.timeoutMs} ms`;
  if (err instanceof APIError && typeof err.status === 'number') return `HTTP ${err.status}`;
  if (err instanceof APIConnectionError) return 'connection failed';
  if (err instanceof APIUserAbortError) return 'request aborted';
  if (err instanceof APIError) return 'error reported in the stream';
  if (err instanceof InvalidChunkError || err instanceof SyntaxError) return 'invalid response';
  return ctx.streaming ? 'stream cut off' : 'request failed';
}

function upstreamFailed(reason: string, cause?: unknown): HeraldError {
  return new HeraldError('upstream_failed', `The model service failed: ${reason}`, { cause });
}
