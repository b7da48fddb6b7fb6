/**
 * Stage `injection`: prompt-injection attempts detected and counted; the text is not changed.
 *
 * Why: a message that tries to override the model's instructions, switch it into a jailbreak persona,
 * fake a system or assistant turn, or get the system prompt or the conversation out is a security
 * event worth an alert, but it is still the user's message: it is kept as written and the model's
 * own defences apply. Blocking on a phrase list would only teach attackers the list.
 *
 * A scored detector, not a phrase list: each signal below is a piece of evidence with a weight; a
 * message is flagged when the weights of the signals it shows add up to 1 (THRESHOLD). Strong signals
 * (an instruction override in any word order and in the most used languages, a chat-template token,
 * a fake `SYSTEM:` line, a labelled code fence or JSON role, a request for the system prompt) flag
 * alone; weak ones (a persona, "developer mode", "no restrictions", "pretend you are") only together,
 * so "developer mode on Android", "jailbreak my iPhone" and "pretend you're interviewing me" are not
 * flagged. The weights and the threshold were set on the development half of the evaluation set
 * (test/sanitize/eval, docs/sanitization.md).
 *
 * It looks at the text as received (the `original` argument), through views that undo what
 * attackers do to hide a phrase: NFKC (full-width letters), ANSI sequences and zero-width, bidi, tag
 * and control characters removed, lower case; the same with HTML comments and tags removed
 * (`Ig<b></b>nore`); a deobfuscated view (letters spaced out joined, `i g n o r e`; leetspeak digits
 * read as letters, `1gn0r3`; Cyrillic and Greek look-alike letters read as Latin); and base64 blocks
 * decoded (`aWdub3Jl…`). A signal counts once, with the most matches any view gave it. Kinds:
 * `override`, `jailbreak`, `roleplay`, `system_tag`, `exfiltration`, each counted by matches.
 * `charsChanged` is always 0.
 */
import { bare, gateClause, leastEveryday, requiredClauses, WORD_START } from '../keywords.js';
import { type Stage, Tally, untouched } from '../stage.js';

export const THRESHOLD = 1;

/** Words that may stand between a verb and its object: "ignore all of the previous instructions". */
const FILLER =
  '(?:(?:all|any|every|each|the|these|those|my|your|of|about|everything|you|were|was|have|been|given|told|just|above|below|prior|previous|earlier|preceding|initial|original|system|current|existing|safety|of\\s+the)\\s+){0,6}';
const INSTRUCTIONS =
  '(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|programming|commands|context|constraints|restrictions|policies|policy|filters|safeguards|training|orders)\\b';
const EARLIER =
  '(?:previous|prior|above|earlier|preceding|former|foregoing|original|initial|system|your|all|any|the\\s+above|every|safety|existing|current)';
const OVERRIDE_VERB =
  '(?:ignore|disregard|forget|override|bypass|skip|drop|discard|abandon|ditch|neglect|overwrite)';

/**
 * One piece of evidence. A message is flagged when the weights of the signals it shows add up to 1
 * (each signal counted once, whatever its number of matches): strong signals (1) alone, weak ones
 * (0.3–0.6: a persona, "developer mode", a role line) only together.
 */
export interface Signal {
  kind: 'override' | 'jailbreak' | 'roleplay' | 'system_tag' | 'exfiltration';
  weight: number;
  source: string;
}

export const SIGNALS: Signal[] = [
  // ---- instruction override, in any word order
  {
    kind: 'override',
    weight: 1,
    source: `\\b${OVERRIDE_VERB}\\s+${FILLER}${EARLIER}\\s+(?:[a-z]+\\s+)?${INSTRUCTIONS}`,
  },
  {
    kind: 'override',
    weight: 1,
    source: `\\b${OVERRIDE_VERB}\\s+(?:(?:all|any|every|the|your|my)\\s+)?${INSTRUCTIONS}\\s+(?:above|before|so\\s+far|you\\s+(?:were|have\\s+been)\\s+given)`,
  },
  {
    kind: 'override',
    weight: 1,
    source: `\\b${OVERRIDE_VERB}\\s+(?:all\\s+|any\\s+)?(?:of\\s+)?(?:everything|anything|what)\\s+(?:you\\s+(?:were|have\\s+been)\\s+)?(?:told|said|instructed|given)\\b`,
  },
  {
    kind: 'override',
    weight: 1,
    source: `\\b(?:do\\s+not|don't|dont|stop|no\\s+longer|never)\\s+(?:follow|obey|adhere\\s+to|comply\\s+with|listen\\s+to|respect)(?:ing)?\\s+(?:your|the|any|these|those|its)\\s+(?:[a-z]+\\s+){0,2}${INSTRUCTIONS}`,
  },
  {
    kind: 'override',
    weight: 1,
    source: `\\b${INSTRUCTIONS}\\s+(?:(?:are|is)\\s+(?:now\\s+)?(?:void|null|cancell?ed|revoked|lifted|disabled|removed|suspended|invalid|obsolete)|(?:no\\s+longer|don't|do\\s+not)\\s+(?:apply|matter|exist))`,
  },
  {
    kind: 'override',
    weight: 0.6,
    source:
      '\\b(?:new|updated|revised|real|actual)\\s+(?:instructions|task|system\\s+(?:message|prompt)|orders)\\s*:',
  },
  {
    kind: 'override',
    weight: 0.6,
    source: '\\bend\\s+of\\s+(?:user\\s+)?(?:input|prompt|message|instructions)\\b',
  },
  {
    kind: 'override',
    weight: 0.3,
    source:
      '\\b(?:authori[sz]ed\\s+(?:red[\\s-]team|penetration|security)\\s+test|for\\s+testing\\s+purposes\\s+only)\\b',
  },
  // other languages: "ignore (all) previous instructions", "forget your rules"
  {
    kind: 'override',
    weight: 1,
    source:
      '\\bignor(?:a|ar|e|ez|er|iere|ieren|ate|ar)\\s+(?:(?:todas|todos|toutes|tous|alle|tutte|tutti)\\s+)?(?:(?:las|los|les|as|os|le|die|deine|tus|tes|vos)\\s+)?(?:(?:vorherigen|bisherigen|obigen)\\s+)?(?:instrucciones|instructions|anweisungen|instruktionen|regeln|instruções|instrucoes|istruzioni|reglas|règles|regole|indicaciones|consignes)',
  },
  {
    kind: 'override',
    weight: 1,
    source:
      '\\b(?:olvida|oublie|vergiss|esqueça|esqueca|dimentica)\\s+(?:(?:todas|toutes|alle|tutte)\\s+)?(?:(?:tus|las|tes|les|deine|die|as|suas|le)\\s+)?(?:(?:instrucciones|instructions|anweisungen|regeln|instruções|istruzioni|reglas|règles|regole))',
  },
  {
    kind: 'override',
    weight: 1,
    source: '\\bnegeer\\s+(?:alle\\s+)?(?:vorige|eerdere|voorgaande)\\s+(?:instructies|regels)',
  },
  {
    kind: 'override',
    weight: 1,
    source: 'önceki\\s+(?:tüm\\s+)?(?:talimatları|komutları)\\s+(?:yok\\s+say|görmezden\\s+gel|unut)',
  },
  {
    kind: 'override',
    weight: 1,
    source:
      '(?:игнорируй|игнорируйте|забудь|забудьте|проигнорируй)\\s+(?:все\\s+)?(?:предыдущие\\s+|прежние\\s+)?(?:инструкции|указания|правила)',
  },
  {
    kind: 'override',
    weight: 1,
    source:
      '(?:忽略|无视|忘记|忘掉)(?:之前|以上|先前|前面|上面|所有)[^。！\\n]{0,6}(?:指令|指示|说明|规则|提示)',
  },
  {
    kind: 'override',
    weight: 1,
    source: '(?:以前|前|上記|これまで)の[^。\\n]{0,8}(?:指示|命令|ルール)を[^。\\n]{0,4}(?:無視|忘れ)',
  },
  {
    kind: 'override',
    weight: 1,
    source: '(?:이전|앞|위)의?\\s*(?:모든\\s*)?(?:지시|지침|명령|규칙)(?:를|을|사항을)?\\s*(?:무시|잊어)',
  },
  {
    kind: 'override',
    weight: 1,
    source: '(?:تجاهل|انس)\\s+(?:جميع\\s+|كل\\s+)?(?:التعليمات|الأوامر|القواعد)',
  },
  {
    kind: 'override',
    weight: 1,
    source:
      '(?:पिछले|पहले\\s+के)\\s+(?:सभी\\s+)?(?:निर्देशों|निर्देश|नियमों)\\s+(?:को\\s+)?(?:अनदेखा|नज़रअंदाज़|नजरअंदाज|भूल)',
  },
  // ---- persona jailbreaks
  {
    kind: 'jailbreak',
    weight: 1,
    source:
      "\\b(?:you\\s+are|you're|act\\s+as|become|enable|activate|enter)\\s+(?:now\\s+)?dan\\b|\\bdan\\s+(?:mode|never|can|has|stands)\\b|\\bdo\\s+anything\\s+now\\b",
  },
  {
    kind: 'jailbreak',
    weight: 1,
    source:
      "\\b(?:you(?:'re|\\s+are)(?:\\s+now)?\\s+in|enter|switch\\s+to|activate|you\\s+are\\s+now\\s+in)\\s+(?:developer|god|admin|debug|jailbreak|unrestricted|sudo)\\s+mode\\b",
  },
  {
    kind: 'jailbreak',
    weight: 0.6,
    source:
      '\\b(?:no|without(?:\\s+any)?|free\\s+(?:of|from)|zero|ignor(?:e|es|ing)\\s+(?:all|any))\\s+(?:ethical\\s+|moral\\s+|content\\s+|safety\\s+)?(?:restrictions|limits|limitations|filters|rules|guidelines|censorship|boundaries|morals|ethics|constraints|content\\s+polic(?:y|ies)|polic(?:y|ies)|safeguards)\\b',
  },
  {
    kind: 'jailbreak',
    weight: 0.6,
    source:
      '\\b(?:unfiltered|uncensored|amoral|unrestricted|unaligned|unethical\\s+(?:ai|assistant|chatbot))\\b',
  },
  {
    kind: 'jailbreak',
    weight: 0.6,
    source: "\\b(?:never|doesn't|does\\s+not|won't|will\\s+not|must\\s+not)\\s+refuse",
  },
  { kind: 'jailbreak', weight: 0.3, source: '\\bdeveloper\\s+mode\\b|\\bjailbr(?:ea|o)k' },
  {
    kind: 'jailbreak',
    weight: 0.4,
    source:
      '\\b(?:evil|dark|shadow)\\s+(?:twin|version|mode|side)\\b|gpt\\b(?<=\\b[a-z]{0,12}gpt)(?=[^.]{0,40}\\b(?:no|without|never)\\b)',
  },
  // ---- role play that hands the model another identity
  {
    kind: 'roleplay',
    weight: 0.4,
    source:
      '\\b(?:you\\s+are\\s+now|from\\s+now\\s+on,?\\s+you|you\\s+will\\s+(?:now\\s+)?(?:answer|respond|act|reply)\\s+as|respond\\s+(?:only\\s+)?as|stop\\s+being\\s+an?\\s+(?:ai|assistant|chatbot|language\\s+model))\\b',
  },
  {
    kind: 'roleplay',
    weight: 0.4,
    source:
      "\\b(?:you\\s+are|you're|act\\s+as|pretend\\s+(?:to\\s+be|you\\s+are|you're))\\s+(?:an?\\s+)?(?:ai|assistant|chatbot|model|terminal|shell|linux\\s+terminal)\\b",
  },
  {
    kind: 'roleplay',
    weight: 0.3,
    source:
      "\\bpretend\\s+(?:that\\s+)?(?:you\\s+are|you're|to\\s+be)\\b|\\brole-?\\s?play\\s+as\\b|\\blet'?s\\s+play\\s+a\\s+game\\b",
  },
  {
    kind: 'roleplay',
    weight: 0.6,
    source: '\\b(?:root|admin|administrator|sudo)\\s+(?:access|privileges|rights)\\b',
  },
  // ---- fake system and role turns
  {
    kind: 'system_tag',
    weight: 1,
    source:
      '<\\|(?:im_start|im_end|system|im_system|start_header_id|end_header_id|eot_id|endoftext|user|assistant)\\|>',
  },
  {
    kind: 'system_tag',
    weight: 1,
    source:
      '<\\s*/?\\s*system\\s*>|\\[\\s*/?\\s*system\\s*\\]|<</?\\s*sys\\s*>>[^\\n]{0,400}<</?\\s*sys\\s*>>',
  },
  { kind: 'system_tag', weight: 0.6, source: '\\[\\s*/?\\s*inst\\s*\\]|<</?\\s*sys\\s*>>' },
  {
    kind: 'system_tag',
    weight: 1,
    source: '(?:^|\\n)[ \\t]*(?:#{1,6}[ \\t]*)?system(?:[ \\t]+(?:prompt|message|note|override))?[ \\t]*:',
  },
  {
    kind: 'system_tag',
    weight: 0.6,
    source: '(?:^|\\n)[ \\t]*#{2,6}[ \\t]*(?:instruction|response|assistant)[ \\t]*:',
  },
  {
    kind: 'system_tag',
    weight: 1,
    source:
      '(?:^|\\n)[ \\t]*(?:assistant|ai|model|chatbot)[ \\t]*:[ \\t]*(?:sure|certainly|of\\s+course|ok|okay|absolutely|here\\s+is)\\b',
  },
  { kind: 'system_tag', weight: 1, source: '```[ \\t]*(?:system|sys|system[_-]prompt)[ \\t]*\\n' },
  { kind: 'system_tag', weight: 1, source: '"role"\\s*:\\s*"(?:system|developer)"\\s*,\\s*"content"' },
  { kind: 'system_tag', weight: 0.6, source: '"role"\\s*:\\s*"(?:system|developer)"' },
  {
    kind: 'system_tag',
    weight: 1,
    source: '</\\s*(?:user|human|user_input|input)\\s*>\\s*<\\s*(?:system|assistant|admin)',
  },
  {
    kind: 'system_tag',
    weight: 0.6,
    source: '\\b(?:the\\s+)?(?:developer|admin|administrator|system|openai|anthropic)\\s+says\\s*:',
  },
  // ---- exfiltration of the prompt or the conversation
  {
    kind: 'exfiltration',
    weight: 1,
    source:
      '\\b(?:reveal|show|print|display|repeat|output|leak|dump|expose|share|quote|recite|tell\\s+me|give\\s+me|write\\s+out|spell\\s+out|what\\s+(?:is|are|was|were))\\s+(?:me\\s+)?(?:your|the)\\s+(?:(?:full|entire|original|hidden|initial|secret|exact|complete|current|first)\\s+){0,2}(?:system\\s+(?:prompt|message|instructions)|(?:hidden|initial|secret|original|first)\\s+(?:prompt|instructions|message)|instructions\\s+(?:you\\s+were\\s+given|above)|prompt\\s+above)\\b',
  },
  {
    kind: 'exfiltration',
    weight: 1,
    source:
      '\\b(?:repeat|print|output|show|copy|write)\\s+(?:everything|all|the\\s+(?:text|words|lines|content))\\s+(?:above|before\\s+this)\\b',
  },
  {
    kind: 'exfiltration',
    weight: 1,
    source:
      '\\b(?:output|print|show|reveal|tell\\s+me)\\s+your\\s+(?:initial|original|first|hidden|secret)\\s+(?:instructions|prompt|message)|\\b(?:print|output)\\s+the\\s+text\\s+above\\b',
  },
  {
    kind: 'exfiltration',
    weight: 0.6,
    source: '\\bwhat\\s+(?:were|was)\\s+you\\s+(?:told|instructed|given|programmed)\\b',
  },
  {
    kind: 'exfiltration',
    weight: 0.6,
    source: '\\b(?:before|prior\\s+to)\\s+(?:this|our|the)\\s+(?:conversation|chat)\\b',
  },
  {
    kind: 'exfiltration',
    weight: 0.3,
    source: '\\b(?:verbatim|word\\s+for\\s+word|exactly\\s+as\\s+written)\\b',
  },
  {
    kind: 'exfiltration',
    weight: 1,
    source:
      '\\b(?:send|post|forward|upload|transmit|exfiltrate|append|leak)\\s+(?:the\\s+|this\\s+|our\\s+|all\\s+|the\\s+full\\s+|the\\s+whole\\s+|every\\s+)?(?:conversation|chat|history|transcript|messages|data|summary|secrets|credentials)[^\\n]{0,40}(?:https?://|www\\.)',
  },
  {
    kind: 'exfiltration',
    weight: 1,
    source:
      '!\\[[^\\]\\n]{0,40}\\]\\(https?://[^)\\s]{0,200}[?&][a-z_]{1,20}=(?:[^)\\s]{0,40}(?:secret|data|summary|chat|conversation|history|\\{|\\$))',
  },
  {
    kind: 'exfiltration',
    weight: 0.6,
    source:
      '\\b(?:reveal|output|dump|list|print|show|give\\s+me|grant)\\s+(?:me\\s+)?(?:all\\s+|every\\s+|the\\s+)?(?:secrets|confidential\\s+(?:data|information)|hidden\\s+configuration|admin\\s+access|(?:every|all)\\s+users?\\W?\\s*(?:e-?mails?|passwords?|data)|the\\s+(?:admin\\s+)?password|api\\s+keys|secret\\s+key)\\b',
  },
  {
    kind: 'exfiltration',
    weight: 0.6,
    source:
      '(?:revela|muestra|affiche|montre|révèle|zeige|gib|mostre|mostra|toon|покажи|выведи)\\s+(?:mir\\s+)?(?:tu|el|ton|le|deinen|den|o|il|je|свой\\s+)?\\s*(?:prompt|системный\\s+промпт)\\s*(?:del|de|du|do|di)?\\s*(?:sistema|système|systeme|systemprompt)?|systemprompt\\s+aus|\\bsysteemprompt\\b',
  },
  {
    kind: 'exfiltration',
    weight: 0.6,
    source:
      '(?:系统提示|システムプロンプト|시스템\\s*프롬프트|موجه\\s+النظام|सिस्टम\\s+प्रॉम्प्ट|sistem\\s+istemi)',
  },
];

/** Leetspeak digits and symbols inside words, read as the letters they stand for. */
export const LEET: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '!': 'i',
};
/** Cyrillic and Greek letters that look like Latin ones. */
const HOMOGLYPHS: Record<string, string> = {
  а: 'a',
  в: 'b',
  е: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  α: 'a',
  β: 'b',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
};
/** `[a-z0-9@$!]`: the characters of a word written in leetspeak. */
const isLeetRunChar = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 64 || c === 36 || c === 33;
/** `[A-Za-z0-9+/_-]`: the characters of a base64 (or base64url) block. */
const isBase64Char = (c: number): boolean =>
  (c >= 97 && c <= 122) ||
  (c >= 65 && c <= 90) ||
  (c >= 48 && c <= 57) ||
  c === 43 ||
  c === 47 ||
  c === 95 ||
  c === 45;
/** Shortest base64 block worth decoding. */
const MIN_BLOCK = 20;

/**
 * The base64 blocks of `text`, in order: each maximal run of MIN_BLOCK or more base64 characters
 * with up to two `=` after it (the matches of `/(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,}={0,2}/g`).
 * Such a run covers one of any MIN_BLOCK positions in a row, so only every MIN_BLOCK-th character is
 * looked at where there is none (prose: a few words apiece), instead of trying the pattern at each.
 */
export function* base64Blocks(text: string): Generator<string> {
  for (let probe = MIN_BLOCK - 1; probe < text.length; ) {
    if (!isBase64Char(text.charCodeAt(probe))) {
      probe += MIN_BLOCK;
      continue;
    }
    let start = probe;
    while (start > 0 && isBase64Char(text.charCodeAt(start - 1))) start--;
    let end = probe + 1;
    while (end < text.length && isBase64Char(text.charCodeAt(end))) end++;
    if (end - start >= MIN_BLOCK) {
      let padded = end;
      while (padded < end + 2 && text.charCodeAt(padded) === 61) padded++;
      yield text.slice(start, padded);
    }
    // The next run starts after `end` (not a base64 character); one of MIN_BLOCK covers end + MIN_BLOCK.
    probe = end + MIN_BLOCK;
  }
}

const leetTrigger = /[0-9@$]/g;
const hasLetter = /[a-z]/;
const leetChar = /[0-9@$!]/g;

/**
 * Leetspeak read as letters: in each run of `[a-z0-9@$!]` that holds a digit, `@` or `$` and a
 * letter, the digits and symbols replaced by the letters they stand for. The runs are found from
 * their digits and symbols (most text has few), not by trying a pattern at every word: the same
 * as `v.replace(/(?<![a-z0-9@$!])[a-z0-9@$!]*[0-9@$][a-z0-9@$!]*\/g, …)`, which cost 3 µs per
 * 1,000 characters of prose.
 */
export function readLeet(v: string): string {
  let out = '';
  let pos = 0;
  leetTrigger.lastIndex = 0;
  for (let m = leetTrigger.exec(v); m !== null; m = leetTrigger.exec(v)) {
    let start = m.index;
    while (start > 0 && isLeetRunChar(v.charCodeAt(start - 1))) start--;
    let end = m.index + 1;
    while (end < v.length && isLeetRunChar(v.charCodeAt(end))) end++;
    leetTrigger.lastIndex = end;
    const run = v.slice(start, end);
    if (!hasLetter.test(run)) continue;
    out += v.slice(pos, start) + run.replace(leetChar, (c) => LEET[c] ?? c);
    pos = end;
  }
  return pos === 0 ? v : out + v.slice(pos);
}

/** Most base64 blocks a message may have decoded, and their longest length. */
const MAX_DECODED_BLOCKS = 8;
const MAX_BLOCK = 8192;

/** `source` split at its top-level `|` (not inside a group or a character class). */
export function topLevel(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(source.slice(start, i));
      start = i + 1;
    }
  }
  out.push(source.slice(start));
  return out;
}

/**
 * Signals in one pattern: wherever one of them matches, this does too (at that position or before).
 * Alternatives that open with `\b` share one `\b` (2-3 times faster on prose than each its own).
 */
const anyOf = (sources: string[]): RegExp | undefined => {
  if (sources.length === 0) return undefined;
  const atWord: string[] = [];
  const other: string[] = [];
  for (const source of sources)
    for (const alt of topLevel(source))
      (alt.startsWith('\\b') ? atWord : other).push(alt.startsWith('\\b') ? alt.slice(2) : alt);
  return new RegExp([...(atWord.length ? [`\\b(?:${atWord.join('|')})`] : []), ...other].join('|'));
};

const escapeLiteral = (literal: string): string => literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/**
 * Literals as one pattern: those marked as word starts behind one shared `\b` (the search skips the
 * inside of words at once), then the others; each group longest first.
 */
const literalsSource = (literals: readonly string[]): string => {
  const sorted = [...literals].sort((x, y) => bare(y).length - bare(x).length);
  const atWord = sorted.filter((l) => l.startsWith(WORD_START)).map((l) => escapeLiteral(l.slice(1)));
  const anywhere = sorted.filter((l) => !l.startsWith(WORD_START)).map(escapeLiteral);
  return [...(atWord.length ? [`\\b(?:${atWord.join('|')})`] : []), ...anywhere].join('|');
};
const isWordChar = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
/** Whether `\b` holds at `i` (ASCII word characters, as in a pattern without the `u` flag). */
const wordStartsAt = (v: string, i: number): boolean =>
  (i > 0 && isWordChar(v.charCodeAt(i - 1))) !== (i < v.length && isWordChar(v.charCodeAt(i)));

/** A gate this rare (`keywords.ts`, `rarity`) is searched for; a signal with none is pre-tested whole. */
const MIN_GATE_RARITY = 4;

/**
 * The prefilter: which signals may match a view, so that only those are run. For each signal,
 * clauses read from its pattern (`keywords.ts`: literals one of which every match contains, for each
 * clause). A signal with a rare clause (its gate: `ignore`/`disregard`/…, `unfiltered`/…, the
 * non-English verbs) may match only a view where one gate literal and every other clause occur,
 * and one search finds every gate literal of every such signal at once. The signals whose every
 * clause is a common word (`you`, `before`, `:`) are pre-tested as one combined pattern, as all
 * signals were before. Either way a signal left out cannot match the view, so what is found is what
 * running every signal finds (test/sanitize/injection-prefilter.test.ts holds it to that).
 */
interface Prefilter {
  /** The signals (indexes) of `kinds` that may match `view`. */
  candidates(view: string, tags: boolean): number[];
}

export function createPrefilter(signals: ReadonlyArray<{ source: string; kind: string }>): Prefilter {
  const plans = signals.map(({ source, kind }) => {
    const clauses = requiredClauses(source);
    const gate = gateClause(clauses, MIN_GATE_RARITY);
    return { source, tags: kind === 'system_tag', clauses, gate, rest: clauses.filter((c) => c !== gate) };
  });
  // One search for every gate literal: those that start a word behind one shared `\b` (most of
  // them; where the text is inside a word the search moves on at once), then the others, each group
  // longest first. Where one is found, the other literals that start at the same place are each a
  // prefix or an extension of it, and are checked there; the search moves on one character at a
  // time, so a literal that starts inside another one's match is found too.
  const literals = [...new Set(plans.flatMap((p) => p.gate ?? []))].sort(
    (x, y) => bare(y).length - bare(x).length,
  );
  const atWord = literals.filter((l) => l.startsWith(WORD_START));
  const sameStart = new Map(
    literals.map((y) => [
      y,
      literals.filter((x) => x !== y && (bare(y).startsWith(bare(x)) || bare(x).startsWith(bare(y)))),
    ]),
  );
  const gatePattern = new RegExp(literalsSource(literals), 'g');
  const clausePattern = new Map<string, RegExp>();
  const restOf = plans.map((p) =>
    p.rest.map((clause) => {
      const key = JSON.stringify(clause);
      let re = clausePattern.get(key);
      if (!re) {
        re = new RegExp(literalsSource(clause));
        clausePattern.set(key, re);
      }
      return re;
    }),
  );
  const ungated = (tags: boolean) =>
    plans.flatMap((p, i) => (p.gate === undefined && p.tags === tags ? [i] : []));
  const groups = [false, true].map((tags) => {
    const members = ungated(tags);
    // Before the combined pattern, one quick test for a clause of each member that ordinary text
    // seldom holds (`leastEveryday`): text with none of them cannot match any member.
    const quick = members.every((i) => plans[i]!.clauses.length > 0)
      ? [...new Set(members.flatMap((i) => leastEveryday(plans[i]!.clauses)!))]
      : [];
    return {
      members,
      quick: quick.length ? new RegExp(literalsSource(quick)) : undefined,
      pretest: anyOf(members.map((i) => plans[i]!.source)),
    };
  });
  const gated = plans.flatMap((p, i) => (p.gate === undefined ? [] : [i]));
  // The gates of the last view searched (a message's views are often the same text).
  let lastView: string | undefined;
  let lastGates = new Set<string>();
  const gatesOf = (view: string): Set<string> => {
    if (view === lastView) return lastGates;
    const found = new Set<string>();
    gatePattern.lastIndex = 0;
    for (let m = gatePattern.exec(view); m !== null; m = gatePattern.exec(view)) {
      const at = m.index;
      const word = wordStartsAt(view, at);
      const literal = word && atWord.includes(WORD_START + m[0]) ? WORD_START + m[0] : m[0];
      found.add(literal);
      for (const x of sameStart.get(literal)!) {
        if (found.has(x) || (x.startsWith(WORD_START) && !word)) continue;
        if (view.startsWith(bare(x), at)) found.add(x);
      }
      gatePattern.lastIndex = at + 1;
    }
    lastView = view;
    lastGates = found;
    return found;
  };
  const restHolds = (i: number, view: string) => restOf[i]!.every((re) => re.test(view));
  return {
    candidates(view, tags) {
      const out: number[] = [];
      const gates = gatesOf(view);
      if (gates.size > 0)
        for (const i of gated) {
          const p = plans[i]!;
          if (p.tags === tags && p.gate!.some((l) => gates.has(l)) && restHolds(i, view)) out.push(i);
        }
      const group = groups[tags ? 1 : 0]!;
      if ((!group.quick || group.quick.test(view)) && group.pretest?.test(view))
        for (const i of group.members) if (restHolds(i, view)) out.push(i);
      return out;
    },
  };
}

let shared: Prefilter | undefined;
/** The prefilter for SIGNALS, built once (on the first stage made) and shared by every stage. */
const getPrefilter = (): Prefilter => {
  shared ??= createPrefilter(SIGNALS);
  return shared;
};

/** Options for tests: `prefilter: false` runs every signal on every view (the reference). */
export interface InjectionOptions {
  prefilter?: boolean;
}

export function createInjectionStage(options: InjectionOptions = {}): Stage {
  const prefilter = options.prefilter === false ? undefined : getPrefilter();
  const nonAscii = /[^\x00-\x7F]/;
  const ansi = /(?:\x1B\[|\x9B)[0-?]*[ -/]*[@-~]|\x1B[ -/]*[0-~]/g;
  const hidden =
    /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFEFF\uFFF9-\uFFFB]|\u034F|\p{Variation_Selector}|[\u{E0000}-\u{E007F}]/gu;
  const signals = SIGNALS.map((s) => ({ ...s, re: new RegExp(s.source, 'g') }));
  const spaced = /(?<![\p{L}\p{N}])(?:[\p{L}\p{N}][ .\-_]){2,}[\p{L}\p{N}](?![\p{L}\p{N}])/gu;
  const homoglyph = /[авекмнорстухіјѕαβειινορτυχ]/g;
  const anyHomoglyph = /[авекмнорстухіјѕαβειινορτυχ]/;
  const letters = /[\p{L}\p{M}]+/gu;
  const latin = /[a-z]/;
  const printable = /^[\x20-\x7E\t\r\n\u00A0-\uFFFF]*$/;

  /** Anything `view` could change besides the case: a control or non-ASCII character. */
  const unusual = /[^\t\n\r\x20-\x7E]/;
  const view = (original: string): string => {
    if (!unusual.test(original)) return original.toLowerCase();
    let v = original;
    if (nonAscii.test(v)) v = v.normalize('NFKC');
    if (v.includes('\x1B') || v.includes('\x9B')) v = v.replace(ansi, '');
    return v.replace(hidden, '').toLowerCase();
  };

  /**
   * The text without HTML comments and tags, as the model receives it after `markup`
   * (`Ig<b></b>nore`, `pre<!-- -->vious`). Detection only, never output, so a rough cut is enough:
   * a comment runs to `-->` (or the end), a tag from `<` to the next `>` with no `<` in between.
   */
  const tag = /<[^<>]*>/g;
  const withoutMarkup = (text: string): string => {
    let out = '';
    let pos = 0;
    for (let open = text.indexOf('<!--'); open !== -1; open = text.indexOf('<!--', pos)) {
      const close = text.indexOf('-->', open + 4);
      out += text.slice(pos, open);
      pos = close === -1 ? text.length : close + 3;
    }
    return (out + text.slice(pos)).replace(tag, '');
  };

  /** Spaced-out letters joined, leetspeak and look-alike letters read as Latin (a lower-case view in, one out). */
  const deobfuscate = (v: string): string => {
    let out = v.replace(spaced, (run) =>
      // Words were separated by wider gaps (`i g n o r e   a l l`): keep those as spaces.
      run.replace(/([\p{L}\p{N}])[ .\-_](?=[\p{L}\p{N}])/gu, '$1'),
    );
    if (out.includes('  ')) out = out.replace(/ {2,}/g, ' ');
    out = readLeet(out);
    if (anyHomoglyph.test(out)) {
      out = out.replace(letters, (w) =>
        latin.test(w) && anyHomoglyph.test(w) ? w.replace(homoglyph, (c) => HOMOGLYPHS[c] ?? c) : w,
      );
    }
    return out;
  };

  /** Base64 blocks that decode to text, decoded (at most MAX_DECODED_BLOCKS). */
  const decoded = (original: string): string => {
    const out: string[] = [];
    for (const block of base64Blocks(original)) {
      if (out.length >= MAX_DECODED_BLOCKS) break;
      if (block.length > MAX_BLOCK || !/[A-Z]/.test(block) || !/[a-z]/.test(block)) continue;
      const text = Buffer.from(block, 'base64').toString('utf8');
      if (text.length >= 8 && printable.test(text) && /[a-z]{3,}\s+[a-z]{2,}/i.test(text)) out.push(text);
    }
    return out.join('\n');
  };

  /**
   * Matches by signal (index into `signals`), the most that any view gave. System tags are read on
   * `tags` (the text with its tags); every other signal on `texts` (tags removed, deobfuscated). With
   * the prefilter, a signal is run only on the views it may match.
   */
  const matches = (tags: string[], texts: string[]): number[] => {
    const best = new Array<number>(signals.length).fill(0);
    const known: Array<{ view: string; tags: boolean; candidates: Set<number> }> = [];
    const candidatesOf = (view: string, isTag: boolean): Set<number> => {
      let hit = known.find((k) => k.view === view && k.tags === isTag);
      if (hit === undefined) {
        hit = { view, tags: isTag, candidates: new Set(prefilter!.candidates(view, isTag)) };
        known.push(hit);
      }
      return hit.candidates;
    };
    signals.forEach(({ re, kind }, i) => {
      for (const v of kind === 'system_tag' ? tags : texts) {
        if (prefilter && !candidatesOf(v, kind === 'system_tag').has(i)) continue;
        let n = 0;
        re.lastIndex = 0;
        for (let m = re.exec(v); m !== null; m = re.exec(v)) {
          n++;
          if (m[0].length === 0) re.lastIndex++;
        }
        if (n > best[i]!) best[i] = n;
      }
    });
    return best;
  };

  return {
    name: 'injection',
    run(text, original) {
      const base = view(original);
      // The model reads the text without its tags; obfuscation undone on top of that.
      const stripped = original.includes('<') ? withoutMarkup(original) : original;
      const read = deobfuscate(stripped === original ? base : view(stripped));
      const tags = [base];
      const texts = [read];
      const hiddenText = decoded(original);
      if (hiddenText) {
        const v = deobfuscate(view(hiddenText));
        tags.push(v);
        texts.push(v);
      }
      const found = matches(tags, texts);
      let score = 0;
      found.forEach((n, i) => {
        if (n > 0) score += signals[i]!.weight;
      });
      if (score < THRESHOLD) return untouched('injection', text);
      const tally = new Tally('injection');
      found.forEach((n, i) => {
        for (let k = 0; k < n; k++) tally.add(signals[i]!.kind, 0);
      });
      return { text, report: tally.report() };
    },
  };
}
