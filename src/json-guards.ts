/** JSON shape checks shared by the edges that read untrusted bodies and frames. */
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
