import { describe, expect, it } from 'vitest';
import { createAnsiStage } from '../../src/sanitize/stages/ansi.js';
import { run } from './helpers.js';

describe('ansi stage', () => {
  const stage = createAnsiStage();

  it('removes colour codes (CSI) whole, leaving no debris', () => {
    const out = run(stage, '\x1b[1;31mERROR\x1b[0m: disk full');
    expect(out.text).toBe('ERROR: disk full');
    expect(out.report.kinds).toEqual({ csi: 2 });
    expect(out.report.charsChanged).toBe('\x1b[1;31m'.length + '\x1b[0m'.length);
  });

  it('removes cursor movement and screen clearing', () => {
    expect(run(stage, 'a\x1b[2J\x1b[H\x1b[10;20Hb\x1b[?25l').text).toBe('ab');
  });

  it('removes OSC sequences ended by BEL or ST (window title, hyperlinks)', () => {
    const out = run(stage, '\x1b]0;pwned\x07x \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\');
    expect(out.text).toBe('x link');
    expect(out.report.kinds).toEqual({ osc: 3 });
  });

  it('removes DCS strings and two-character escapes', () => {
    const out = run(stage, '\x1bPq#0;2;0;0;0\x1b\\a\x1b(Bb\x1bc');
    expect(out.text).toBe('ab');
    expect(out.report.kinds).toEqual({ string: 1, escape: 2 });
  });

  it('removes 8-bit CSI sequences', () => {
    expect(run(stage, 'x\x9b31my').text).toBe('xy');
  });

  it('leaves text without escapes untouched, including brackets', () => {
    const out = run(stage, 'array[0m] and [31m]');
    expect(out.text).toBe('array[0m] and [31m]');
    expect(out.report.count).toBe(0);
  });

  it('leaves a lone ESC for the invisible stage', () => {
    expect(run(stage, 'a\x1b').text).toBe('a\x1b');
  });

  it('stays fast on many unterminated OSC introducers', () => {
    const text = '\x9dabcd'.repeat(20_000);
    const out = run(stage, text);
    expect(out.text).toBe(text);
  });

  // Found by the card property: `ESC SP 6` read as one escape took the card's first digit and
  // glued the rest to the word before it (`A6` + `011…`), where no card is looked for.
  it('takes an ESC before a space as a stray one, not the start of a sequence', () => {
    const out = run(stage, 'A6\x1b 6011000000000004');
    expect(out.text).toBe('A6\x1b 6011000000000004');
    expect(run(stage, '\x1b(B\x1b[mok').text).toBe('ok');
  });
});
