import { describe, expect, it } from 'vitest';
import { sanitizationSummary, securityAlert, upstreamError } from '../../src/agent-messages/factories.js';
import { createSanitizer } from '../../src/sanitize/pipeline.js';

const sanitize = (text: string) => createSanitizer({ maxChars: 100_000 }).sanitize(text);

describe('agent message factories', () => {
  it('sums markup kinds to the count and tells attributes apart', () => {
    const r = sanitize('<img src=x onerror=alert(1)> <a href="javascript:alert(1)">x</a> <b>bold</b>');
    const line = sanitizationSummary(r, 'm_1')
      .content.split('\n')
      .find((l) => l.startsWith('- markup'))!;
    const [, count, inside] = /- markup: (\d+) removed \(([^)]*)\)/.exec(line)!;
    const sum = inside!.split(', ').reduce((n, part) => n + Number(part.split(' ').at(-1)), 0);
    expect(sum).toBe(Number(count));
    expect(line).toContain('with event handler 1, js url 1');
  });

  it('never repeats a removed value', () => {
    const r = sanitize('mail jane@example.com, key AKIAIOSFODNN7EXAMPLE, card 4111 1111 1111 1111');
    const text = JSON.stringify([sanitizationSummary(r, 'm_1'), securityAlert(r, 'm_1')]);
    for (const secret of ['jane@example.com', 'AKIAIOSFODNN7EXAMPLE', '4111 1111 1111 1111'])
      expect(text).not.toContain(secret);
  });

  it('states an upstream failure once, in our words', () => {
    const content = upstreamError('m_1', 'The model service failed: HTTP 500').content;
    expect(content).toContain('(HTTP 500)');
    expect(content.match(/model service failed/gi)).toHaveLength(1);
  });
});
