import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PageSink } from './repository.js';
import { HEADER } from '../http/headers.js';

/** How long a list waits for a client to take the next piece of a large page before giving up. */
const DRAIN_TIMEOUT_MS = 30_000;

/**
 * Sends a list page as the contract's envelope, streamed: `{"data":[` + the pieces `list` hands
 * to its sink + `],"error":null,"debug":{…}}`. Until the total is known nothing is sent, so a
 * failure before it is an ordinary error answer; a failure after it cuts the response (the
 * status line is gone), and is logged.
 */
export async function sendListPage(
  request: FastifyRequest,
  reply: FastifyReply,
  list: (sink: PageSink) => Promise<void>,
  pagination: (total: number) => Record<string, number>,
): Promise<FastifyReply> {
  const body = new PassThrough();
  let pieces = 0;
  let started!: (total: number) => void;
  const total = new Promise<number>((resolve) => (started = resolve));
  const done = list({
    start(count) {
      body.write('{"data":[');
      started(count);
    },
    async write(text, last) {
      if (text === '') return;
      const written = body.write(pieces++ > 0 ? `,${text}` : text);
      // The last piece is left buffered: the transaction ends now rather than when the client has read it.
      if (!written && !last) await drained(body);
    },
  });
  const count = await Promise.race([total, done.then(() => total)]);
  done.then(
    () => body.end(`],"error":null,"debug":${JSON.stringify({ activityID: request.id })}}`),
    (error: unknown) => {
      request.log.warn({ err: error }, 'list page cut short');
      body.destroy(error as Error);
    },
  );
  reply.header(HEADER.pagination, JSON.stringify(pagination(count)));
  return reply.type('application/json; charset=utf-8').send(body);
}

function drained(stream: PassThrough): Promise<void> {
  return new Promise((resolve, reject) => {
    const finish = (error?: Error) => {
      clearTimeout(timer);
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => finish();
    const onClose = () => finish(new Error('the client went away during a list page'));
    const timer = setTimeout(() => finish(new Error('the client stopped reading a list page')), DRAIN_TIMEOUT_MS);
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
}
