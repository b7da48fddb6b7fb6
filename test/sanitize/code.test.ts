import { describe, expect, it } from 'vitest';
import { findCode } from '../../src/sanitize/code.js';
import { foldForMatching } from '../../src/sanitize/fold.js';

const texts = (text: string) => findCode(text).map(([s, e]) => text.slice(s, e));

describe('findCode', () => {
  it('finds inline spans closed by a run of the same length', () => {
    expect(texts('a `<br>` b ``x ` y`` c')).toEqual(['`<br>`', '``x ` y``']);
  });

  it('leaves unclosed backticks and fences as text', () => {
    expect(texts('a `b and ``c')).toEqual([]);
    expect(texts('```\n<b>x</b>\nno closing fence')).toEqual([]);
  });

  it('finds fenced blocks closed by a fence at least as long, of the same character', () => {
    expect(texts('x\n```js\na<b\n~~~\n````\ny')).toEqual(['```js\na<b\n~~~\n````']);
    expect(texts('~~~\n```\n~~~')).toEqual(['~~~\n```\n~~~']);
    expect(texts('```\r\nx\r\n```\r\n`y`')).toEqual(['```\r\nx\r\n```\r', '`y`']);
  });

  it('stays linear on many backticks and unclosed fences', () => {
    for (const unit of ['`', '` ``', '```a\n', '~~~~\n```x`\n', '```````\n']) {
      const text = unit.repeat(Math.ceil(100_000 / unit.length));
      const start = performance.now();
      findCode(text);
      expect(performance.now() - start).toBeLessThan(2_000);
    }
  });
});

describe('foldForMatching', () => {
  it('folds full-width ASCII and Arabic-Indic digits, one unit for one', () => {
    const text = 'ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ ０９０－１２３４ ٤١١١ ۴۵۶ 𝟏 é';
    const folded = foldForMatching(text);
    expect(folded).toBe('jane@example.com 090-1234 4111 456 𝟏 é');
    expect(folded.length).toBe(text.length);
  });

  it('returns text without foldable characters as it is', () => {
    const text = 'plain text 123';
    expect(foldForMatching(text)).toBe(text);
  });
});
