import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BodyBudget } from './body-budget.js';
import { decoders, parseContentEncoding } from './content-encoding.js';
import { ApiError, badRequest, payloadTooLarge } from './errors.js';
import { IncrementalJson } from './json-items.js';
import { JsonScanner } from './json-scan.js';
import { HEADER } from './headers.js';

/** Media types the contract accepts for request bodies (tested against the whole header, parameters included). */
const JSON_TYPE = /^(?:application\/json|text\/json|application\/[\w.-]+\+json)\s*(?:;|$)/i;

/**
 * JSON values a body may hold per record it may hold. The widest record (a group) has 98 fields, so
 * a full record is 99 values; the rest is room for unknown fields, which are ignored anyway.
 */
const VALUES_PER_RECORD = 128;
/** Records' worth of values a body of a single-record route may hold. */
const SINGLE_BODY_RECORDS = 8;
/**
 * What a parsed value costs on V8's heap, in budget bytes (measured with JSON.parse: an empty
 * object 67 bytes, an empty array 43, a number or short string 10-11, plus its slot in the parent).
 */
const CONTAINER_COST = 64;
const SCALAR_COST = 16;
/**
 * How far past the record limit a batch is still read and counted, so the 413 can say how many
 * records it had (exact for a batch over the limit by a few thousand records); beyond, the rest is
 * read unscanned and the answer says "more than" the count so far. Scanning costs CPU a hostile
 * client should not get for free.
 */
const COUNT_ON_BYTES = 4 * 1024 * 1024;
/** Budget taken at a time when a body's size is not known in advance (chunked or compressed). */
const BUDGET_STEP = 1024 * 1024;
/**
 * A batch's records are parsed in pieces of about this many bytes as they arrive (json-items.ts).
 * Measured (bench:profile-batch and peak RSS, 10,000 groups on PostgreSQL): 64 KiB was as fast as
 * any size from 16 KiB up and faster than 256 KiB (287 vs 322 ms a batch), and the server's peak
 * RSS growth was 3.2-3.8× the body against 4.6× with 256 KiB pieces or the whole body at once.
 */
const PIECE_BYTES = 64 * 1024;

export interface BodyLimits {
  readonly maxBodyBytes: number;
  readonly maxJsonDepth: number;
  readonly maxBatchRecords: number;
  readonly budget: BodyBudget;
}

/** A client that went away before its request had arrived: not a fault of the server or its database. */
export class ClientAbort extends Error {
  readonly code = 'CLIENT_ABORT';
  constructor() {
    super('The client closed the connection before the request body had arrived');
  }
}

/**
 * Bodies are read by us, not by Fastify's default parser: an empty body (which generated clients
 * send on GET, DELETE and login with `Content-Type: application/json`) is simply no body, malformed
 * JSON is a 400 in the contract's envelope, a compressed body is decoded, and the body is counted
 * while it arrives (bytes after decoding, nesting depth, JSON values, a batch's records), so one
 * that would build millions of objects is refused before JSON.parse ever sees it. Only known
 * fields are ever read from the parsed value, so `__proto__` keys are inert.
 */
export function jsonBodies(app: FastifyInstance, limits: BodyLimits): void {
  const responses = new WeakMap<IncomingMessage, ServerResponse>();
  // The parser sees the request only; it needs the response to hold its budget until the answer is sent.
  app.addHook('preParsing', async (request, reply, payload) => {
    responses.set(request.raw, reply.raw);
    return payload;
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPE, (request: FastifyRequest, payload: IncomingMessage) =>
    readJson(request, payload, responses.get(request.raw), limits),
  );
}

/** Batch routes are the vendor's `…-batch` paths: there the top-level array's items are records, counted against the limit. */
const isBatchRoute = (request: FastifyRequest) => request.routeOptions.url?.endsWith('-batch') === true;

async function readJson(request: FastifyRequest, payload: Readable, response: ServerResponse | undefined, limits: BodyLimits): Promise<unknown> {
  const { maxBodyBytes, maxJsonDepth, maxBatchRecords, budget } = limits;
  const encodings = parseContentEncoding(request.headers['content-encoding']);
  if (encodings instanceof ApiError) return drainThen(payload, encodings, maxBodyBytes);
  const declared = Number(request.headers['content-length']);
  // Fastify's own parser refused these before reading a byte; so do we (the connection then closes).
  if (encodings.length === 0 && declared > maxBodyBytes) throw tooLarge(maxBodyBytes);

  // The budget is held until the answer has been sent: the parsed body lives as long as the handler.
  let held = 0;
  const release = (bytes = held) => {
    held -= bytes;
    budget.give(bytes);
  };
  response?.once('close', () => release());
  if (encodings.length === 0 && declared > 0) {
    // Its bytes and, about as much again, the values they parse into (topped up below when more).
    const expected = declared * 2;
    if (!(await budget.take(expected))) return drainThen(payload, busy(), maxBodyBytes);
    held = expected;
    // A client that left while it waited is told apart here: its stream has nothing more to say.
    if (payload.destroyed) {
      release();
      throw new ClientAbort();
    }
  }

  const batch = isBatchRoute(request);
  const maxValues = VALUES_PER_RECORD * (batch ? maxBatchRecords : SINGLE_BODY_RECORDS);
  const scanner = new JsonScanner(maxJsonDepth);
  const source = decoders(payload, encodings);
  // A top-level array (every batch) is parsed piece by piece as it arrives and its bytes let go;
  // any other body is kept as bytes and parsed whole at its end.
  const value = new IncrementalJson(scanner, PIECE_BYTES);
  let bytes = 0;
  let tooManyRecords = false;
  let countedOn = 0;

  return new Promise<unknown>((resolve, reject) => {
    let settled = false;
    /** Stops reading; on failure the budget goes back at once, on success it is held until the answer is sent. */
    const stop = (failed: boolean) => {
      settled = true;
      source.output.off('data', onData);
      source.output.off('end', onEnd);
      source.output.off('error', onDecodeError);
      payload.off('error', onAbort);
      payload.off('aborted', onAbort);
      if (failed) value.drop();
      if (failed || !response) release();
    };
    const fail = (error: Error) => {
      if (settled) return;
      stop(true);
      source.close();
      drainThen(payload, error, maxBodyBytes).catch(reject);
    };
    const onAbort = () => {
      if (settled) return;
      stop(true);
      source.close();
      reject(new ClientAbort());
    };
    const onDecodeError = () => fail(badRequest(`The request body is not valid ${encodings.join(', ')}`));

    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBodyBytes) return fail(tooLarge(maxBodyBytes));
      if (tooManyRecords) {
        // Only counting now, to say how many records there were; a little way only, since counting costs CPU.
        countedOn += chunk.length;
        if (countedOn <= COUNT_ON_BYTES && scanner.write(chunk)) return;
        return fail(tooManyRecordsError(maxBatchRecords, `more than ${scanner.topLevelItems}`));
      }
      if (!scanner.write(chunk)) return fail(badRequest(`The request body is nested deeper than ${maxJsonDepth} levels`));
      if (batch && scanner.topLevelItems > maxBatchRecords) {
        // Nothing of this body will be built: let go of it, but read on a little to count its records.
        tooManyRecords = true;
        value.drop();
        release();
        return;
      }
      if (scanner.values > maxValues) {
        const perRecord = batch ? ` (${VALUES_PER_RECORD} a record)` : '';
        return fail(payloadTooLarge(`The request body holds more than ${maxValues} JSON values${perRecord}`));
      }
      try {
        value.write(chunk);
      } catch {
        return fail(notJson()); // JSON.parse's SyntaxError, or the pieces not adding up to an array
      }
      const cost = bytes + scanner.containers * CONTAINER_COST + (scanner.values - scanner.containers) * SCALAR_COST;
      if (cost <= held) return;
      const step = Math.max(cost - held, BUDGET_STEP);
      source.output.pause();
      void budget.take(step, held).then((granted) => {
        if (settled) return budget.give(granted ? step : 0);
        if (!granted) return fail(busy());
        held += step;
        source.output.resume();
      });
    };

    const onEnd = () => {
      if (settled) return;
      if (tooManyRecords) {
        stop(true);
        return reject(tooManyRecordsError(maxBatchRecords, String(scanner.topLevelItems)));
      }
      stop(false);
      try {
        resolve(value.end());
      } catch {
        reject(notJson());
      }
    };

    source.output.on('data', onData);
    source.output.on('end', onEnd);
    source.output.on('error', onDecodeError);
    payload.on('error', onAbort);
    payload.on('aborted', onAbort);
  });
}

/** The contract's 413 for a batch over the record limit (the same words as the route's own check). */
const tooManyRecordsError = (maxBatchRecords: number, count: string) =>
  payloadTooLarge(`A batch may hold at most ${maxBatchRecords} records; this one has ${count}`);
const notJson = () => badRequest('The request body is not valid JSON');
const tooLarge = (maxBodyBytes: number) => payloadTooLarge(`The request body may be at most ${maxBodyBytes} bytes`);
const busy = () =>
  new ApiError(503, 'The server is receiving too many request bodies at once. Retry shortly.', undefined, { [HEADER.retryAfter]: '1' });

/**
 * Answers `error` once the client has finished sending (the rest is read and thrown away), so the
 * client reads the answer instead of a connection reset mid-upload. A client sending more than a
 * body's limit is not waited for.
 */
function drainThen(payload: Readable, error: Error, maxBodyBytes: number): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (payload.readableEnded) return reject(error);
    if (payload.destroyed) return reject(new ClientAbort());
    let drained = 0;
    const done = (reason: Error) => {
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onError);
      reject(reason);
    };
    const onData = (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > maxBodyBytes) done(error);
    };
    const onEnd = () => done(error);
    const onError = () => done(new ClientAbort());
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.resume();
  });
}
