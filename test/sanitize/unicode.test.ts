import { describe, expect, it } from 'vitest';
import { createUnicodeStage } from '../../src/sanitize/stages/unicode.js';
import { run } from './helpers.js';

describe('unicode stage', () => {
  const stage = createUnicodeStage();

  it('is named unicode', () => {
    expect(stage.name).toBe('unicode');
  });

  it('leaves ASCII text alone', () => {
    const out = run(stage, 'plain text, 42!');
    expect(out.text).toBe('plain text, 42!');
    expect(out.report).toEqual({ stage: 'unicode', count: 0, charsChanged: 0, kinds: {} });
  });

  it('composes a decomposed accent (NFC) and counts the changed characters', () => {
    const out = run(stage, 'cafe\u0301 ok');
    expect(out.text).toBe('caf\u00e9 ok');
    expect(out.report.kinds).toEqual({ normalized: 1 });
    expect(out.report.charsChanged).toBe(2);
  });

  it('maps compatibility singletons that NFC changes (Angstrom sign)', () => {
    const out = run(stage, '\u212B');
    expect(out.text).toBe('\u00C5');
    expect(out.report.count).toBe(1);
  });

  it('turns the three non-breaking spaces into plain spaces', () => {
    const out = run(stage, 'a\u00A0b\u202Fc\u2007d');
    expect(out.text).toBe('a b c d');
    expect(out.report.kinds).toEqual({ nbsp: 3 });
    expect(out.report.charsChanged).toBe(3);
  });

  it('keeps already-normalized non-Latin text and emoji byte-identical', () => {
    const text = '日本語 العربية हिन्दी Ελληνικά 👩🏽‍💻';
    const out = run(stage, text);
    expect(out.text).toBe(text);
    expect(out.report.count).toBe(0);
  });

  it('does not apply NFKC (full-width letters stay)', () => {
    expect(run(stage, 'ＡＢＣ').text).toBe('ＡＢＣ');
  });
});
