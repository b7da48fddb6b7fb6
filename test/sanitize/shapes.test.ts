import { describe, expect, it } from 'vitest';
import { createSanitizer } from '../../src/sanitize/index.js';
import { isPlaceholder } from '../../src/sanitize/stages/secrets.js';

/** Secrets and PII in the shapes people paste (issue 11); values built at run time. */
const sanitizer = createSanitizer({ maxChars: 10_000 });
const clean = (text: string) => sanitizer.sanitize(text);
const pw = `Tr0ub${'4dor'}-77`;
const hex32 = '9f8e7d6c5b4a39281706f5e4d3c2b1a0';

describe('credentials in URLs', () => {
  it.each([
    [`postgres://app:${pw}@db.example.io:5432/app`, 'postgres://app:[SECRET]@db.example.io:5432/app'],
    [`https://jane:${pw}@api.example.org/v1`, 'https://jane:[SECRET]@api.example.org/v1'],
    [`redis://:${pw}@localhost:6379/0`, 'redis://:[SECRET]@localhost:6379/0'],
    [`amqp://guest:${pw}@10.0.4.12:5672/`, 'amqp://guest:[SECRET]@[IP]:5672/'],
  ])('replaces the password only, as a secret with an alert: %s', (input, expected) => {
    const r = clean(input);
    expect(r.text).toBe(expected);
    expect(r.secretsFound).toBe(1);
    expect(r.stages.find((s) => s.stage === 'secrets')!.kinds).toEqual({ url_credentials: 1 });
    expect(r.stages.find((s) => s.stage === 'pii')!.kinds.email).toBeUndefined();
  });

  it.each([
    'git@gitlab.example.io:group/app.git',
    'ssh://git@github.com/org/repo.git',
    'ssh deploy@bastion.example.com',
    'https://user@example.com/path',
    'postgres://user:password@localhost:5432/mydb',
    'DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/DB',
  ])('leaves %s alone', (input) => {
    const r = clean(input);
    expect(r.text).toBe(input);
    expect(r.secretsFound).toBe(0);
  });
});

describe('secrets by key name, in any case style and file format', () => {
  const secret = `aB3${'dE5fG7hJ9kL1mN3pQ5rS7tU9'}`;
  it.each([
    [`"SecretAccessKey": "${secret}"`, 'credential'],
    [`secretAccessKey: '${secret}'`, 'credential'],
    [`client-secret=${secret}`, 'credential'],
    [`X-Api-Key: ${secret}`, 'credential'],
    [
      `DefaultEndpointsProtocol=https;AccountName=x;AccountKey=${secret}==;EndpointSuffix=core.windows.net`,
      'credential',
    ],
    [`<add key="SmtpPassword" value="${pw}" />`, 'password'],
    [`Server=db;User Id=sa;Password=${pw};`, 'password'],
    [`the wifi password is ${pw}`, 'password'],
  ])('%s', (input, kind) => {
    const r = clean(input);
    expect(r.text).not.toContain(input.includes(secret) ? secret : pw);
    expect(r.text).toContain('[SECRET]');
    expect(Object.keys(r.stages.find((s) => s.stage === 'secrets')!.kinds)).toEqual([kind]);
  });

  it('counts a secret whose markup the markup step removed, and replaces what is left of it', () => {
    const r = clean(`<config><password>${pw}</password></config>`);
    expect(r.text).toBe('[SECRET]');
    expect(r.secretsFound).toBe(1);
    const gone = clean(`<appSettings><add key="AWSSecretKey" value="${secret}" /></appSettings>`);
    expect(gone.text).not.toContain(secret);
    expect(gone.secretsFound).toBe(1);
  });

  it.each([
    'max_tokens: 4096',
    'password_reset_ttl: 3600',
    'token_expiry_seconds=900',
    'apiKey: string;',
    'the token limit is 128000 tokens',
    'my password is wrong',
  ])('leaves %s alone', (input) => {
    expect(clean(input).text).toBe(input);
  });
});

describe('vendor tokens', () => {
  it.each([
    ['sendgrid_key', `SG.${'aBcDeFgHiJkLmNoPqRsTuV'}.${'wXyZ0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ012'}`],
    ['twilio_key', `SK${hex32}`],
    ['huggingface_token', `hf_${'AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh'}`],
    ['shopify_token', `shpat_${hex32}`],
    ['stripe_key', `rk_live_${'51Hx2k3L4m5N6o7P8q9R0sT'}`],
    ['google_key', `AIza${'SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6q'}`],
    ['google_key', `GOCSPX-${'aB1cD2eF3gH4iJ5kL6mN7oP8qR9s'}`],
  ])('%s', (kind, token) => {
    const r = clean(`key ${token} here`);
    expect(r.text).toBe('key [SECRET] here');
    expect(r.stages.find((s) => s.stage === 'secrets')!.kinds).toEqual({ [kind]: 1 });
  });
});

describe('placeholders', () => {
  it.each([
    `ghp_${'X'.repeat(36)}`,
    `sk_live_${'x'.repeat(24)}`,
    '<your-api-key>',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable, not a template
    '${DB_PASSWORD}',
    'your_api_key_here',
    'YOUR_CLIENT_SECRET',
    '****************',
    'process.env.API_KEY',
  ])('%s is a placeholder, not redacted, no alert', (value) => {
    expect(isPlaceholder(value)).toBe(true);
    const r = clean(`api_key=${value}`);
    expect(r.text).toBe(`api_key=${value}`);
    expect(r.secretsFound).toBe(0);
  });
});

describe('PII in national forms', () => {
  it.each([
    ['098765 43210', '[PHONE]'],
    ['(11) 91234-5678', '[PHONE]'],
    ['8 (916) 123-45-67', '[PHONE]'],
    ['138 0013 8000', '[PHONE]'],
    ['0532 123 45 67', '[PHONE]'],
    ['536 22 1234', '[SSN]'],
    ['DE89 3704 0044 0532 0130 00', '[IBAN]'],
    ['NL91ABNA0417164300', '[IBAN]'],
  ])('%s', (value, placeholder) => {
    expect(clean(`value: ${value}.`).text).toBe(`value: ${placeholder}.`);
  });

  it('reads nine bare digits as an SSN only after a context word', () => {
    expect(clean('ssn 412589023').text).toBe('ssn [SSN]');
    expect(clean('order 412589023').text).toBe('order 412589023');
  });

  // Only the exact shape of an IBAN keeps cards out of its digits: a card after any other word
  // of four characters, or after a mistyped IBAN, is still a card. (Found by the card property
  // with a random seed: `AA00 4000000000000002` went out whole.)
  it.each([
    ['AA00 4000000000000002', 'AA00 [CARD]'],
    ['see AB12 4111 1111 1111 1111 now', 'see AB12 [CARD] now'],
    ['DE00 4000000000000002', 'DE00 [CARD]'],
    ['DE89 3704 0044 0532 0130 01 4111111111111111', 'DE89 3704 0044 0532 0130 01 [CARD]'],
  ])('finds the card in %s', (input, output) => {
    expect(clean(input).text).toBe(output);
  });

  it.each([
    ['bob@x.io(javascript:alert(1))', '[EMAIL](#)'],
    ['AKIAIOSFODNN7EXAMPLE(javascript:alert(1))', '[SECRET](#)'],
    ['password=hunter2](javascript:alert(1))', 'password=[SECRET](#)'],
  ])('leaves no script link behind a placeholder: %s', (input, output) => {
    expect(clean(input).text).toBe(output);
  });

  it.each(['DE89 3704 0044 0532 0130 01', 'part number 0123 456 789', 'population 1 234 567'])(
    'leaves %s alone (a failed IBAN check, a code, a count)',
    (input) => {
      expect(clean(input).text).toBe(input);
    },
  );
});

describe('code and words that only look like secrets', () => {
  const sanitizer = createSanitizer({ maxChars: 10_000 });
  it.each([
    'compass: north',
    'bypass: 12abc',
    'PWD=/home/jane/project',
    'password: req.body.password',
    'password: hashedPassword',
    "accessToken: localStorage.getItem('token')",
    'apiKey: config.apiKey',
  ])('leaves %s alone', (input) => {
    expect(sanitizer.sanitize(input).text).toBe(input);
  });

  it('still takes `pass` as a key of its own', () => {
    expect(sanitizer.sanitize('SMTP_PASS=hunter22').text).toBe('SMTP_PASS=[SECRET]');
    expect(sanitizer.sanitize("dbPass: 'x9y8z7'").text).toBe("dbPass: '[SECRET]'");
  });
});
