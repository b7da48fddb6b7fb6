/**
 * The size of `herald/client` as an application ships it: src/client/index.ts bundled for the
 * browser by esbuild (ESM, minified, every export kept), then gzipped (level 9). Prints one JSON
 * line; docs/clients.md quotes it. `npm run size:client`.
 */
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface ClientSize {
  minifiedBytes: number;
  gzippedBytes: number;
  /** Every source file in the bundle, relative to the repository. */
  inputs: string[];
  /** Imports the bundle leaves to the platform (none: no dependency). */
  external: string[];
}

export async function measureClient(): Promise<ClientSize> {
  const root = new URL('..', import.meta.url).pathname;
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['src/client/index.ts'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const output = Object.values(result.metafile.outputs)[0]!;
  return {
    minifiedBytes: code.byteLength,
    gzippedBytes: gzipSync(code, { level: 9 }).byteLength,
    inputs: Object.keys(result.metafile.inputs).sort(),
    external: output.imports.filter((i) => i.external).map((i) => i.path),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const size = await measureClient();
  console.log(JSON.stringify(size));
}
