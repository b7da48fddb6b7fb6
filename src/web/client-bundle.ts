/**
 * GET /herald-client.js: `herald/client` (src/client) bundled for the browser, which the
 * built-in page at / imports. `npm run build` writes the bundle to dist/web beside the page
 * (esbuild, ESM, minified); in a checkout, where nothing is built, it is bundled from the source
 * once, on the first request, with the same options (esbuild is a devDependency there).
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';

const BUILT = new URL('./herald-client.js', import.meta.url);
const SOURCE = new URL('../client/index.ts', import.meta.url);

/** The options `npm run build` uses too (package.json). */
export const BUNDLE_OPTIONS = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
} as const;

async function loadBundle(): Promise<string> {
  try {
    return await readFile(BUILT, 'utf8');
  } catch {
    // A checkout: bundle the source.
    const { build } = await import('esbuild');
    const result = await build({
      ...BUNDLE_OPTIONS,
      entryPoints: [SOURCE.pathname],
      write: false,
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  }
}

export async function clientBundleRoutes(app: FastifyInstance): Promise<void> {
  let bundle: Promise<string> | undefined;
  app.get('/herald-client.js', async (_request, reply) => {
    bundle ??= loadBundle();
    return reply
      .type('text/javascript; charset=utf-8')
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-cache')
      .send(await bundle);
  });
}
