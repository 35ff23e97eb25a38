import type { FastifyInstance } from 'fastify';
import { badRequest } from './errors.js';
import { exceedsDepth } from './json-depth.js';

/** Media types the contract accepts for request bodies (tested against the whole header, parameters included). */
const JSON_TYPE = /^(?:application\/json|text\/json|application\/[\w.-]+\+json)\s*(?:;|$)/i;

/**
 * Bodies are parsed by us, not by Fastify's default parser, so that an empty body (which generated
 * clients send on GET, DELETE and login with `Content-Type: application/json`) is simply no body,
 * and malformed JSON is a 400 in the contract's envelope. Only known fields are ever read from the
 * parsed value, so `__proto__` keys are inert.
 */
export function jsonBodies(app: FastifyInstance, maxDepth: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPE, { parseAs: 'string' }, (_request, body: string | Buffer, done) => {
    const text = body.toString();
    if (text.length === 0) return done(null, undefined);
    if (exceedsDepth(text, maxDepth)) return done(badRequest(`The request body is nested deeper than ${maxDepth} levels`), undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(badRequest('The request body is not valid JSON'), undefined);
    }
  });
}
