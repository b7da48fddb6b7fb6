import { describe, expect, it } from 'vitest';
import { createModelAgent } from '../../src/agents/create-agent.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('createModelAgent', () => {
  it('picks the local agent by default', () => {
    expect(createModelAgent(loadConfig({})).name).toBe('local');
  });

  it('picks the openai agent for HERALD_AGENT=openai', () => {
    const config = loadConfig({ HERALD_AGENT: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    expect(createModelAgent(config).name).toBe('openai');
  });

  it('refuses openai without a base URL', () => {
    const config = { ...loadConfig({}), agent: 'openai' as const };
    expect(() => createModelAgent(config)).toThrow(ConfigError);
  });
});
