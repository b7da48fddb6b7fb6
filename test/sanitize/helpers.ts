import type { Stage, StageOutput } from '../../src/sanitize/stage.js';

/** Runs one stage on `text`, with `text` also as the original message. */
export const run = (stage: Stage, text: string): StageOutput => stage.run(text, text);

/** Fake credentials, built at run time so that secret scanners do not flag this repository. */
export const fake = {
  jwt: [
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9',
    'eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ',
    'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  ].join('.'),
  awsAccessKey: `AKIA${'IOSFODNN7EXAMPLE'}`,
  awsSecret: `wJalrXUtnFEMI/K7MDENG/bPxRfiCY${'EXAMPLEKEY'}`,
  openai: `sk-proj-${'Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z'}`,
  anthropic: `sk-ant-api03-${'Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe'}`,
  stripe: `sk_live_${'51Hx2k3L4m5N6o7P8q9R0sT'}`,
  github: `ghp_${'1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R'}`,
  githubPat: `github_pat_${'11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz'}`,
  slack: `xoxb-${'123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'}`,
  bearer: `${'a1B2c3D4e5F6g7H8i9J0'}k1L2m3N4o5P6`,
  privateKey: [
    `-----BEGIN RSA ${'PRIVATE'} KEY-----`,
    'MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpI',
    '192.168.10.12 4111111111111111 555-123-4567 a@b.co',
    'z2Q9mT7cVw==',
    `-----END RSA ${'PRIVATE'} KEY-----`,
  ].join('\n'),
};
