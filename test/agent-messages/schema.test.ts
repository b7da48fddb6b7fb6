import { describe, expect, it } from 'vitest';
import { validateAgentMessageInput } from '../../src/agent-messages/schema.js';
import { HeraldError } from '../../src/errors/catalogue.js';

const identity = (s: string) => s;
const valid = { agentType: 'status', content: 'Deploy finished', source: 'ci.bot' };

function fieldsOf(body: unknown): string[] {
  try {
    validateAgentMessageInput(body, identity);
  } catch (err) {
    expect(err).toBeInstanceOf(HeraldError);
    expect((err as HeraldError).code).toBe('invalid_agent_message');
    return (err as HeraldError).fields ?? [];
  }
  throw new Error('expected invalid_agent_message');
}

describe('agent message validation', () => {
  it('applies the defaults of the type', () => {
    expect(validateAgentMessageInput({ ...valid, agentType: 'sanitization' }, identity)).toMatchObject({
      priority: 'medium',
      deliveryGuarantee: 'at-least-once',
      ttl: 300_000,
    });
    expect(validateAgentMessageInput({ ...valid, agentType: 'security' }, identity)).toMatchObject({
      priority: 'high',
      deliveryGuarantee: 'exactly-once',
      ttl: 3_600_000,
    });
    expect(validateAgentMessageInput(valid, identity)).toMatchObject({
      priority: 'low',
      deliveryGuarantee: 'best-effort',
      ttl: 60_000,
    });
    expect(validateAgentMessageInput({ ...valid, agentType: 'error' }, identity)).toMatchObject({
      priority: 'critical',
      deliveryGuarantee: 'exactly-once',
      ttl: 3_600_000,
    });
  });

  it('keeps what the producer chose', () => {
    const input = validateAgentMessageInput(
      {
        ...valid,
        priority: 'high',
        ttl: 1000,
        deliveryGuarantee: 'exactly-once',
        correlationId: 'm_1',
        data: { a: 1 },
      },
      identity,
    );
    expect(input).toMatchObject({
      priority: 'high',
      ttl: 1000,
      deliveryGuarantee: 'exactly-once',
      correlationId: 'm_1',
    });
    expect(input.data).toEqual({ a: 1 });
  });

  it('removes control characters but newline and tab before checking the length', () => {
    expect(validateAgentMessageInput({ ...valid, content: 'a\u0000b\nc\td\u007f' }, identity).content).toBe(
      'ab\nc\td',
    );
    expect(fieldsOf({ ...valid, content: '\u0001\u0002' })).toEqual(['content']);
  });

  it('names every bad field at once', () => {
    expect(
      fieldsOf({
        agentType: 'gossip',
        content: '',
        source: 'Bad Source!',
        priority: 'urgent',
        ttl: 999,
        deliveryGuarantee: 'twice',
      }),
    ).toEqual(['agentType', 'content', 'source', 'priority', 'ttl', 'deliveryGuarantee']);
  });

  it.each([
    [{ ...valid, content: 'x'.repeat(16_385) }, 'content'],
    [{ ...valid, content: 5 }, 'content'],
    [{ ...valid, ttl: 86_400_001 }, 'ttl'],
    [{ ...valid, ttl: 1500.5 }, 'ttl'],
    [{ ...valid, ttl: '2000' }, 'ttl'],
    [{ ...valid, source: 'a'.repeat(65) }, 'source'],
    [{ ...valid, source: '-lead' }, 'source'],
    [{ ...valid, data: [1, 2] }, 'data'],
    [{ ...valid, data: { big: 'x'.repeat(8 * 1024) } }, 'data'],
    [{ ...valid, correlationId: 7 }, 'correlationId'],
    [{ ...valid, idempotencyKey: '' }, 'idempotencyKey'],
  ])('refuses %j naming %s', (body, field) => {
    expect(fieldsOf(body)).toEqual([field]);
  });

  it('accepts the limits themselves', () => {
    expect(() =>
      validateAgentMessageInput(
        { ...valid, content: 'x'.repeat(16_384), ttl: 86_400_000, source: 'a'.repeat(64) },
        identity,
      ),
    ).not.toThrow();
    expect(() => validateAgentMessageInput({ ...valid, ttl: 1000 }, identity)).not.toThrow();
  });

  it('runs the scrubber over content and every string in data', () => {
    const scrub = (s: string) => s.replaceAll('secret', '[SECRET]');
    const input = validateAgentMessageInput(
      { ...valid, content: 'a secret', data: { nested: { list: ['secret', 3] }, flag: true } },
      scrub,
    );
    expect(input.content).toBe('a [SECRET]');
    expect(input.data).toEqual({ nested: { list: ['[SECRET]', 3] }, flag: true });
  });

  it('refuses a body that is not an object', () => {
    expect(fieldsOf('text')).toEqual(['body']);
    expect(fieldsOf(null)).toEqual(['body']);
  });
});
