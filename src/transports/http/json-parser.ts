/**
 * The JSON body parser: secure-json-parse (what Fastify uses) with prototype-poisoning keys
 * removed rather than refused, so valid JSON that happens to hold `__proto__` is not called
 * invalid; and an empty body read as no body, so a bodyless POST with a JSON content type
 * (as many fetch helpers send) is judged by the route's schema, not refused as bad JSON.
 */
import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { HeraldError } from '../../errors/catalogue.js';

export function registerJsonParser(app: FastifyInstance, bodyLimit: number): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' }));
    } catch {
      done(new HeraldError('bad_json', 'The body is not valid JSON.'), undefined);
    }
  });
}
