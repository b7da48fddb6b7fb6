import { describe, expect, it } from 'vitest';
import { createPiiStage } from '../../src/sanitize/stages/pii.js';
import { fake, run } from './helpers.js';

describe('pii stage', () => {
  const stage = createPiiStage();
  const text = (input: string) => run(stage, input).text;
  const kinds = (input: string) => run(stage, input).report.kinds;

  describe('e-mail', () => {
    it('replaces addresses and counts their length as changed', () => {
      const out = run(stage, 'write to jane.doe+tag@mail.example.co.uk, please');
      expect(out.text).toBe('write to [EMAIL], please');
      expect(out.report.kinds).toEqual({ email: 1 });
      expect(out.report.charsChanged).toBe('jane.doe+tag@mail.example.co.uk'.length);
    });

    it('handles several addresses and non-ASCII neighbours', () => {
      expect(text('a@b.io,c_d@e-f.org 邮箱x@y.cn')).toBe('[EMAIL],[EMAIL] 邮箱[EMAIL]');
    });

    it('replaces addresses with Latin-1 and Cyrillic letters', () => {
      expect(text('josé@example.com иван@пример.рф')).toBe('[EMAIL] [EMAIL]');
    });

    it('leaves things that only look like addresses', () => {
      expect(text('@mention user@localhost a@b')).toBe('@mention user@localhost a@b');
    });
  });

  describe('card', () => {
    it('replaces Luhn-valid card numbers, plain, spaced or dashed', () => {
      expect(text('4111111111111111 / 5555 5555 5555 4444 / 3782-822463-10005')).toBe(
        '[CARD] / [CARD] / [CARD]',
      );
      expect(kinds('4111111111111111')).toEqual({ card: 1 });
    });

    it('does not flag a 16-digit number that fails the Luhn check', () => {
      expect(text('order 4111111111111112 and 1234 5678 9012 3456')).toBe(
        'order 4111111111111112 and 1234 5678 9012 3456',
      );
    });

    it('does not flag numbers outside the card networks (a millisecond timestamp)', () => {
      expect(text('ts=1700000000009')).toBe('ts=1700000000009');
    });

    it('replaces the card and keeps a trailing group that is not part of it', () => {
      expect(text('4111 1111 1111 1111 12/27')).toBe('[CARD] 12/27');
    });
  });

  describe('ssn', () => {
    it('replaces US social security numbers', () => {
      expect(text('SSN: 123-45-6789.')).toBe('SSN: [SSN].');
      expect(kinds('123-45-6789')).toEqual({ ssn: 1 });
    });

    it('ignores numbers the SSA never issues', () => {
      expect(text('000-12-3456 666-12-3456 912-34-5678 123-00-4567 123-45-0000')).toBe(
        '000-12-3456 666-12-3456 912-34-5678 123-00-4567 123-45-0000',
      );
    });
  });

  describe('ip', () => {
    it('replaces IPv4 addresses, keeping ports and prefixes', () => {
      expect(text('ssh 10.0.0.12:22, net 192.168.1.0/24')).toBe('ssh [IP]:22, net [IP]/24');
    });

    it('does not take versions or out-of-range quads for addresses', () => {
      expect(text('v1.2.3 node 20.11.1 999.1.1.1 1.2.3.4.5')).toBe('v1.2.3 node 20.11.1 999.1.1.1 1.2.3.4.5');
    });

    it('replaces IPv6 addresses, full and compressed', () => {
      expect(text('2001:0db8:85a3:0000:0000:8a2e:0370:7334 and fe80::1ff:fe23:4567:890a, 2001:db8::1.')).toBe(
        '[IP] and [IP], [IP].',
      );
    });

    it('does not take code, times or MAC addresses for IPv6', () => {
      const code = 'std::vector<int> Foo::Bar at 12:30:45 mac 00:1a:2b:3c:4d:5e';
      expect(text(code)).toBe(code);
    });
  });

  describe('phone', () => {
    it('replaces international numbers', () => {
      expect(text('+1 (555) 123-4567 / +44 20 7946 0958 / +49 151 12345678 / +4915112345678')).toBe(
        '[PHONE] / [PHONE] / [PHONE] / [PHONE]',
      );
    });

    it('replaces North American formats', () => {
      expect(text('(555) 123-4567, 555-123-4567, 555.123.4567, 555 123 4567, 1-800-555-1234')).toBe(
        '[PHONE], [PHONE], [PHONE], [PHONE], [PHONE]',
      );
      expect(kinds('call 555-123-4567 or 555-987-6543')).toEqual({ phone: 2 });
    });

    it('replaces European numbers with a trunk prefix', () => {
      expect(text('030 12345678; 06 12 34 56 78; (0171) 1234567; 020-7946-0958')).toBe(
        '[PHONE]; [PHONE]; [PHONE]; [PHONE]',
      );
    });

    it('leaves years, prices, versions, dates, ranges and bare ids alone', () => {
      const plain =
        'In 2024 it cost $1,299.99 (v1.2.3), shipped 2024-01-15 or 15.01.2024 10:30, ' +
        'order 5551234567, ids 100-1000, ISBN 978-3-16-148410-0, 1 000 000 users, +5 points';
      expect(text(plain)).toBe(plain);
    });
  });

  it('matches cards and SSNs before phones', () => {
    expect(kinds('4111-1111-1111-1111 123-45-6789')).toEqual({ card: 1, ssn: 1 });
  });

  it('replaces mixed PII in one message', () => {
    const out = run(
      stage,
      'Jane <jane@corp.example>, +1 415 555 0100, 4242 4242 4242 4242, 078-05-1120, 10.1.2.3',
    );
    expect(out.text).toBe('Jane <[EMAIL]>, [PHONE], [CARD], [SSN], [IP]');
    expect(out.report.kinds).toEqual({ email: 1, phone: 1, card: 1, ssn: 1, ip: 1 });
    expect(out.report.count).toBe(5);
  });

  it('never touches its own placeholders', () => {
    const once = text('a@b.co 4111111111111111 123-45-6789 1.2.3.4 +1 555 123 4567');
    expect(text(once)).toBe(once);
    expect(run(stage, once).report.count).toBe(0);
  });

  it('replaces a value glued to one it replaced, so a second run finds nothing (was not idempotent)', () => {
    for (const [input, expected] of [
      ['+1 555 123 4567+1 555 123 45670', '[PHONE][PHONE]'],
      ['(555) 123-4567(555) 123-4567', '[PHONE][PHONE]'],
      ['(0171) 1234567(0171) 1234567', '[PHONE][PHONE]'],
    ]) {
      const once = run(stage, input!);
      expect(once.text).toBe(expected);
      expect(once.report.charsChanged).toBe(input!.length);
      expect(run(stage, once.text).report.count).toBe(0);
    }
  });

  it('leaves secrets whole for the secrets stage', () => {
    const input = `token ${fake.jwt} and ${fake.privateKey}`;
    const out = run(stage, input);
    expect(out.text).toBe(input);
    expect(out.report.count).toBe(0);
  });

  it('still replaces PII around a secret', () => {
    expect(text(`a@b.co ${fake.jwt} 10.0.0.1`)).toBe(`[EMAIL] ${fake.jwt} [IP]`);
  });

  it('matches on folded full-width and Arabic-Indic text and replaces the original span', () => {
    expect(
      text('tel ０９０－１２３４－５６７８, ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ, ٤١١١ ١١١١ ١١١١ ١١١١.'),
    ).toBe('tel [PHONE], [EMAIL], [CARD].');
  });

  it('replaces internationalised addresses, but not SSH remotes', () => {
    expect(text('用户@例子.中国 and x@y.cn谢谢')).toBe('[EMAIL] and [EMAIL]谢谢');
    const remote = 'git@github.com:acme/app.git';
    expect(text(remote)).toBe(remote);
    expect(text('jane@example.com: hi')).toBe('[EMAIL]: hi');
  });

  it('leaves four-part versions but not addresses', () => {
    const versions = 'Version=13.0.0.0 ver: 4.4.0.1 build 1.2.3.4 v1.2.3.4 RELEASE 5.6.7.8';
    expect(text(versions)).toBe(versions);
    expect(text('Server 10.0.0.12, ip 192.168.1.1')).toBe('Server [IP], ip [IP]');
  });

  it('needs phone-like grouping, and knows some national formats', () => {
    const plain = 'Scores: 100 200 3000, code 0123 456 789, order 12345678901, 01/2024';
    expect(text(plain)).toBe(plain);
    expect(text('07700900123 13800138000 0501234567 030/12345678 0412 345 678')).toBe(
      '[PHONE] [PHONE] [PHONE] [PHONE] [PHONE]',
    );
  });
});
