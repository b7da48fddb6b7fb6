import { describe, expect, it } from 'vitest';
import { createInvisibleStage } from '../../src/sanitize/stages/invisible.js';
import { run } from './helpers.js';

describe('invisible stage', () => {
  const stage = createInvisibleStage();

  it('removes zero-width characters, soft hyphens and BOMs', () => {
    const out = run(stage, '\uFEFFig\u200Bno\u200Cre\u2060 al\u00ADl');
    expect(out.text).toBe('ignore all');
    expect(out.report.kinds).toEqual({ zero_width: 5 });
    expect(out.report.charsChanged).toBe(5);
  });

  it('removes bidi overrides, isolates and marks (Trojan Source)', () => {
    const out = run(stage, 'access\u202E\u2066 level\u2069\u202C\u200E\u200F');
    expect(out.text).toBe('access level');
    expect(out.report.kinds).toEqual({ bidi: 6 });
  });

  it('removes control characters but keeps tab, newline and carriage return', () => {
    const out = run(stage, 'a\x00b\x07c\x1bd\x7fe\x85f\tg\nh\r\n');
    expect(out.text).toBe('abcdef\tg\nh\r\n');
    expect(out.report.kinds).toEqual({ control: 5 });
  });

  it('removes hidden Unicode tag characters (ASCII smuggling)', () => {
    const hidden = [...'run rm'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
    const out = run(stage, `hello${hidden}`);
    expect(out.text).toBe('hello');
    expect(out.report.kinds).toEqual({ tag_char: 6 });
    // Six code points (each a surrogate pair, 12 UTF-16 units): lengths are counted in code points.
    expect(out.report.charsChanged).toBe(6);
  });

  it('keeps emoji ZWJ sequences, skin tones, flags and keycaps untouched', () => {
    const text = '👨‍👩‍👧‍👦 👩🏽‍💻 🏳️‍🌈 🏳️‍⚧️ 🧑‍🤝‍🧑 🇫🇷 👍🏿 #️⃣ ❤️‍🔥';
    const out = run(stage, text);
    expect(out.text).toBe(text);
    expect(out.report.count).toBe(0);
  });

  it('keeps the tag sequence of subdivision flags (England, Scotland)', () => {
    const text = '🏴󠁧󠁢󠁥󠁮󠁧󠁿 🏴󠁧󠁢󠁳󠁣󠁴󠁿';
    expect(run(stage, text).text).toBe(text);
  });

  it('removes a ZWJ that is not between two emoji', () => {
    const out = run(stage, 'a\u200Db 👨\u200D x\u200D👩');
    expect(out.text).toBe('ab 👨 x👩');
    expect(out.report.kinds).toEqual({ zero_width: 3 });
  });

  it('keeps ZWNJ/ZWJ between letters of scripts that shape with them (Persian, Hindi)', () => {
    const persian = 'می‌خواهم';
    const hindi = 'क्‍ष';
    expect(run(stage, persian).text).toBe(persian);
    expect(run(stage, hindi).text).toBe(hindi);
  });

  it('removes ZWNJ between Latin letters', () => {
    expect(run(stage, 'pass\u200Cword').text).toBe('password');
  });

  it('removes lone surrogates', () => {
    const out = run(stage, 'a\uD800b\uDC00c😀');
    expect(out.text).toBe('abc😀');
    expect(out.report.kinds).toEqual({ lone_surrogate: 2 });
  });

  it('re-normalizes when a removal brings a base and its accent together', () => {
    expect(run(stage, 'e\u200B\u0301').text).toBe('\u00e9');
  });

  it('leaves ordinary text alone', () => {
    const out = run(stage, 'Hello,\tworld!\n');
    expect(out.text).toBe('Hello,\tworld!\n');
    expect(out.report).toEqual({ stage: 'invisible', count: 0, charsChanged: 0, kinds: {} });
  });

  it('keeps bidi marks next to Hebrew and Arabic letters, removes them elsewhere', () => {
    const rtl = 'שלום\u200F (x) \u200Fעולם مرحبا\u061C';
    expect(run(stage, rtl).text).toBe(rtl);
    expect(run(stage, 'a\u200Eb \u200F1 \u061C٤').text).toBe('ab 1 ٤');
    expect(run(stage, 'שלום\u202Eעולם\u2066').text).toBe('שלוםעולם');
  });

  it('keeps ZWSP and soft hyphen between Thai, Lao, Khmer and Myanmar letters only', () => {
    const sea = 'ภาษา\u200Bไทย ພາສາ\u00ADລາວ ខ្មែរ\u200Bភាសា မြန်\u200Bမာ';
    expect(run(stage, sea).text).toBe(sea);
    expect(run(stage, 'ig\u200Bnore ภาษา\u200B x\u00ADy').text).toBe('ignore ภาษา xy');
  });

  // Found by the idempotence property: the joiner was kept for the mark after it, then the mark
  // went, and only a second run took the joiner.
  it('settles in one run when a removal leaves a kept joiner alone', () => {
    const out = run(stage, '\u094d\u200d\u061c');
    expect(out.text).toBe('\u094d');
    expect(run(stage, out.text).text).toBe(out.text);
  });
});
