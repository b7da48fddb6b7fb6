/** Picks the model agent named by the configuration (HERALD_AGENT). */
import { ConfigError, type HeraldConfig } from '../config/config.js';
import { createLocalAgent } from './local-agent.js';
import type { ModelAgent } from './model-agent.js';
import { createOpenAIAgent } from './openai-agent.js';

export function createModelAgent(config: HeraldConfig): ModelAgent {
  switch (config.agent) {
    case 'local':
      return createLocalAgent({ thinkMs: config.localThinkMs });
    case 'openai': {
      const { baseUrl, apiKey, model, timeoutMs } = config.openai;
      // loadConfig already refuses this; kept for configs built by hand (tests, embedding).
      if (!baseUrl)
        throw new ConfigError(
          'HERALD_AGENT=openai needs OPENAI_BASE_URL (for example https://api.openai.com/v1)',
        );
      return createOpenAIAgent({ baseUrl, model, timeoutMs, ...(apiKey ? { apiKey } : {}) });
    }
    default: {
      const never: never = config.agent;
      throw new ConfigError(`unknown agent "${String(never)}"`);
    }
  }
}
