import { describe, expect, it } from 'vitest';
import { createSecretScanner, createSecretsStage } from '../../src/sanitize/stages/secrets.js';
import { fake, run } from './helpers.js';

describe('secrets stage', () => {
  const stage = createSecretsStage();
  const text = (input: string) => run(stage, input).text;
  const kinds = (input: string) => run(stage, input).report.kinds;

  it.each([
    ['aws_access_key', `id ${fake.awsAccessKey} ok`, 'id [SECRET] ok'],
    ['jwt', `token=${fake.jwt}`, 'token=[SECRET]'],
    ['api_key', `OPENAI_API_KEY=${fake.openai}`, 'OPENAI_API_KEY=[SECRET]'],
    ['api_key', `key: ${fake.anthropic}`, 'key: [SECRET]'],
    ['stripe_key', `stripe ${fake.stripe}`, 'stripe [SECRET]'],
    [
      'github_token',
      `git clone https://${fake.github}@github.com/x/y`,
      'git clone https://[SECRET]@github.com/x/y',
    ],
    ['github_token', `GH_TOKEN=${fake.githubPat}`, 'GH_TOKEN=[SECRET]'],
    ['slack_token', `SLACK=${fake.slack}`, 'SLACK=[SECRET]'],
    ['private_key', `key:\n${fake.privateKey}\nthanks`, 'key:\n[SECRET]\nthanks'],
  ])('replaces %s', (kind, input, expected) => {
    const out = run(stage, input);
    expect(out.text).toBe(expected);
    expect(out.report.kinds).toEqual({ [kind]: 1 });
    expect(out.report.count).toBe(1);
  });

  it('replaces only the value of aws_secret_access_key, in env and JSON form', () => {
    expect(text(`aws_secret_access_key = ${fake.awsSecret}`)).toBe('aws_secret_access_key = [SECRET]');
    expect(text(`{"AWS_SECRET_ACCESS_KEY": "${fake.awsSecret}"}`)).toBe(
      '{"AWS_SECRET_ACCESS_KEY": "[SECRET]"}',
    );
    expect(kinds(`aws_secret_access_key=${fake.awsSecret}`)).toEqual({ aws_secret_key: 1 });
  });

  it('replaces the token after Bearer and keeps the word', () => {
    const out = run(stage, `curl -H "Authorization: Bearer ${fake.bearer}" https://api.example`);
    expect(out.text).toBe('curl -H "Authorization: Bearer [SECRET]" https://api.example');
    expect(out.report.kinds).toEqual({ bearer_token: 1 });
    expect(out.report.charsChanged).toBe(fake.bearer.length);
  });

  it('counts a JWT sent as a bearer token once, as a JWT', () => {
    const out = run(stage, `Authorization: Bearer ${fake.jwt}`);
    expect(out.text).toBe('Authorization: Bearer [SECRET]');
    expect(out.report.kinds).toEqual({ jwt: 1 });
  });

  it('redacts a private key block whose END line is missing', () => {
    const out = run(
      stage,
      `-----BEGIN ${'PRIVATE'} KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nAbCd==\n\nbye`,
    );
    expect(out.text).toBe('[SECRET]\n\nbye');
    expect(out.report.kinds).toEqual({ private_key: 1 });
  });

  it('does not flag ordinary words and short values', () => {
    const plain =
      'The sk-learn docs; task-force-alpha-bravo-charlie; Bearer tokens are a standard; ' +
      'bearer authentication-is-great-for-apis; eyJ alone; AKIA123; ghp_short; xoxb-1';
    const out = run(stage, plain);
    expect(out.text).toBe(plain);
    expect(out.report.count).toBe(0);
  });

  it('counts every secret in a message and their characters', () => {
    const input = `${fake.awsAccessKey} ${fake.github} ${fake.openai}`;
    const out = run(stage, input);
    expect(out.text).toBe('[SECRET] [SECRET] [SECRET]');
    expect(out.report.count).toBe(3);
    expect(out.report.charsChanged).toBe(fake.awsAccessKey.length + fake.github.length + fake.openai.length);
  });

  it('never matches its own placeholder', () => {
    const once = text(`Bearer ${fake.bearer}`);
    expect(run(stage, once).report.count).toBe(0);
  });

  it('exposes spans for the pii stage, merged when they overlap', () => {
    const scanner = createSecretScanner();
    const input = `x ${fake.jwt} y`;
    expect(scanner.find(input)).toEqual([{ start: 2, end: 2 + fake.jwt.length, kind: 'jwt' }]);
    expect(scanner.find('nothing here')).toEqual([]);
  });

  it('stays linear on many BEGIN lines without END', () => {
    const input = `-----BEGIN ${'PRIVATE'} KEY-----\nAAAA\n`.repeat(5_000);
    const out = run(stage, input);
    expect(out.text).not.toContain('AAAA');
  });

  it('replaces npm, PyPI and GitLab tokens', () => {
    const npm = `npm_${'a1B2c3D4e5'.repeat(3)}F6g7H8`;
    const pypi = `pypi-${'AgEIcHlwaS5vcmc'.repeat(4)}`;
    const gitlab = `glpat-${'xY1_zW2-vU3tS4rQ5pO6'}`;
    const out = run(createSecretsStage(), `${npm} ${pypi} ${gitlab}`);
    expect(out.text).toBe('[SECRET] [SECRET] [SECRET]');
    expect(out.report.kinds).toEqual({ npm_token: 1, pypi_token: 1, gitlab_token: 1 });
  });

  it('replaces password values only, and not placeholders', () => {
    const stage = createSecretsStage();
    const out = run(stage, `PASSWORD=abc123 passwd: 'two words' "password":"x9y8"`);
    expect(out.text).toBe(`PASSWORD=[SECRET] passwd: '[SECRET]' "password":"[SECRET]"`);
    expect(out.report.kinds).toEqual({ password: 3 });
    const plain = 'password=[SECRET] password=*** password=<password> password=$DB_PW the password is long';
    expect(run(stage, plain).text).toBe(plain);
  });

  it('finds secrets written in full-width characters', () => {
    const out = run(createSecretsStage(), 'ｐａｓｓｗｏｒｄ＝ｈｕｎｔｅｒ２');
    expect(out.text).toBe('ｐａｓｓｗｏｒｄ＝[SECRET]');
  });
});
