import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import cors from '@fastify/cors';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { Accounts } from '../auth/accounts.js';
import { authenticate, type AuthServices } from '../auth/guard.js';
import { Lockout } from '../auth/lockout.js';
import { MfaDevices } from '../auth/mfa-state.js';
import { LoginLimits } from '../auth/login-limits.js';
import { memoryLimiter, redisLimiter } from '../auth/rate-limit.js';
import { Sessions } from '../auth/sessions.js';
import { Tokens } from '../auth/tokens.js';
import type { Config } from '../config.js';
import { classify, RolledBack } from '../store/errors.js';
import type { Store } from '../store/store.js';
import { ClientAbort, jsonBodies } from './body.js';
import { BodyBudget } from './body-budget.js';
import { docsUi, document, documentYaml, indexRoute } from './docs.js';
import { metricsHooks } from './metrics.js';
import { pathOf } from './context.js';
import { failure } from './envelope.js';
import { ApiError, unavailable } from './errors.js';
import { mountOperations } from './operation.js';
import { operationTable } from './operation-table.js';
import { tenancy } from './tenancy.js';
import { withoutVendorPrefix } from './vendor-prefix.js';
import { HEADER, REQUEST_HEADERS, RESPONSE_HEADERS } from './headers.js';

export type AppConfig = Pick<
  Config,
  | 'maxBatchRecords'
  | 'batchChunkRows'
  | 'maxBodyBytes'
  | 'maxTextChars'
  | 'maxInflightBodyBytes'
  | 'maxJsonDepth'
  | 'maxHeaderBytes'
  | 'requestTimeoutMs'
  | 'jwtSecret'
  | 'secretKey'
  | 'tokenLifetimeSeconds'
  | 'rateLimit'
  | 'redisUrl'
  | 'idempotencyTtlSeconds'
  | 'loginRate'
  | 'loginUserRate'
  | 'passwordHashConcurrency'
  | 'passwordHashQueue'
  | 'metricsToken'
  | 'refreshTokenDays'
  | 'lockoutAttempts'
  | 'lockoutWindowSeconds'
  | 'lockoutSeconds'
>;

export interface AppOptions {
  readonly store: Store;
  readonly config: AppConfig;
  /** A pino logger; none means silent (tests). */
  readonly logger?: FastifyBaseLogger;
}

/** How long a request waits for room in the in-flight body budget before it gets 503. */
const BODY_BUDGET_WAIT_MS = 2_000;

/** Builds the application without listening: tests inject into it, `vbapi serve` listens. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    genReqId: () => randomUUID(),
    // Every log line of a request carries its activityID, the id clients see in `debug`.
    logController: new LogController({ requestIdLogLabel: 'activityID' }),
    requestIdHeader: false,
    rewriteUrl: (request) => withoutVendorPrefix(request.url ?? '/'),
    bodyLimit: options.config.maxBodyBytes,
    requestTimeout: options.config.requestTimeoutMs,
    // Node checks request timeouts every connectionsCheckingInterval (30 s by default): check often enough to honour short ones.
    http: { maxHeaderSize: options.config.maxHeaderBytes, connectionsCheckingInterval: Math.min(30_000, Math.ceil(options.config.requestTimeoutMs / 4)) },
    // Malformed HTTP, oversized headers, timeouts: answered by Node before any route, still in the envelope.
    clientErrorHandler: answerClientError,
    // Keys are short, but URL-encoded non-ASCII keys are up to 12 bytes a character.
    routerOptions: { maxParamLength: 1000 },
    // Fastify's own 503 while closing is not in the envelope; the onRequest hook below answers instead.
    return503OnClosing: false,
    // Errors the router raises before any hook (a malformed URL) get the same envelope.
    frameworkErrors: (error, request, reply) => {
      reply.header(HEADER.activityId, request.id);
      void sendProblem(error, request, reply);
    },
  });

  app.decorateRequest('identity', null);
  app.decorateRequest('tenant', null as never);
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Hooks that never wait are written with `done`, not async: no promise per request for each.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(HEADER.activityId, request.id);
    // While draining, requests already in flight finish; new ones on kept-alive connections are turned away.
    done(closing ? new ApiError(503, 'The server is shutting down. Retry shortly.', undefined, { connection: 'close' }) : undefined);
  });
  // A request that was in flight when the drain began is answered on a connection that then closes,
  // so the drain does not wait for clients' keep-alive connections to time out.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  // A response whose head went out before the drain began (a streamed list page) could not say
  // `connection: close`, and Node closes idle connections only when the close starts: once such a
  // response ends, its connection is idle and kept alive for the client (72 s), so the drain would
  // outlast the shutdown timeout. Close it (and any other idle one) as each response ends.
  app.addHook('onResponse', async () => {
    if (closing) app.server.closeIdleConnections();
  });
  const { maxBodyBytes, maxJsonDepth, maxBatchRecords, maxInflightBodyBytes } = options.config;
  jsonBodies(app, { maxBodyBytes, maxJsonDepth, maxBatchRecords, budget: new BodyBudget(maxInflightBodyBytes, BODY_BUDGET_WAIT_MS) });

  app.setErrorHandler((error: FastifyError, request, reply) => sendProblem(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(failure(request.id, 404, `No route for ${request.method} ${pathOf(request)}`, pathOf(request))),
  );

  // Browsers may call the API from any origin: credentials travel in headers, never in cookies.
  await app.register(cors, {
    origin: '*',
    allowedHeaders: [...REQUEST_HEADERS],
    exposedHeaders: [...RESPONSE_HEADERS],
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
  });

  const auth = await authServices(options.store, options.config, app.log);
  const mfa = await MfaDevices.load(options.store.registry, options.config.secretKey);
  app.addHook('onClose', async () => {
    await Promise.all([auth.limiter?.close(), auth.logins.close()]);
  });

  // Before any route, so every response is counted; /metrics itself is off the tenant scope.
  metricsHooks(app, options.store, options.config.metricsToken);
  indexRoute(app);
  await docsUi(app);
  // The API, mounted once (VENDOR_PREFIX is rewritten away before routing). Bearer operations get
  // their hooks at onRequest, before the body is read: nobody without credentials gets 64 MiB parsed.
  const services = { store: options.store, config: options.config, auth, mfa, document: { json: document, get yaml() { return documentYaml(); } } };
  await mountOperations(app, operationTable, services, [authenticate(auth), tenancy(options.store)]);
  return app;
}

async function authServices(store: Store, config: AppConfig, log: FastifyBaseLogger): Promise<AuthServices> {
  const { rateLimit, redisUrl } = config;
  return {
    registry: store.registry,
    accounts: new Accounts(store.registry),
    tokens: await Tokens.load(store.registry, config.jwtSecret, config.tokenLifetimeSeconds),
    limiter: rateLimit === null ? null : redisUrl ? redisLimiter(redisUrl, rateLimit, log) : memoryLimiter(rateLimit),
    logins: LoginLimits.create(config, log),
    sessions: new Sessions(store.registry, config.refreshTokenDays),
    lockout: new Lockout(store.registry, {
      attempts: config.lockoutAttempts,
      windowSeconds: config.lockoutWindowSeconds,
      lockSeconds: config.lockoutSeconds,
    }),
  };
}

/** A client error Node raises before Fastify sees a request: answer in the envelope, then close. */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const activityID = randomUUID();
  const body = JSON.stringify(failure(activityID, status, STATUS_TEXT[status] ?? 'Bad request', ''));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nx-activity-id: ${activityID}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'The request is not valid HTTP',
  408: 'The request took too long to arrive',
  431: 'The request headers are too large',
};

/** One mapping from any error to HTTP: the contract's envelope, and 5xx details logged, never returned. */
function sendProblem(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let status: number;
  let detail: string;
  if (isClientAbort(error, request)) {
    // Nobody is left to answer; not a fault of the server or its database.
    request.log.debug({ err: error }, 'client closed the connection before its request had arrived');
    status = 400;
    detail = error.message;
  } else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    status = 415; // most often curl's default type: say what to send instead
    detail = `${describeContentType(request.headers['content-type'])} Send the body as JSON: Content-Type: application/json`;
  } else if (error instanceof ApiError) {
    status = error.status;
    detail = error.message;
    if (error.headers) reply.headers(error.headers);
  } else if (classify(error) === 'unavailable') {
    const fault = error instanceof RolledBack ? error.cause : error;
    const busy = unavailable(`The database is unavailable${error instanceof RolledBack ? '; nothing was applied' : ''}. Retry later.`, fault);
    status = 503;
    detail = busy.message;
    if (busy.headers) reply.headers(busy.headers);
    request.log.warn({ err: error }, 'database unavailable');
  } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    status = error.statusCode; // Fastify's own client errors: body too large, unsupported media type, bad URL…
    detail = error.message;
  } else {
    status = 500;
    detail = `An unexpected error occurred. Quote activityID ${request.id} when reporting it.`;
    request.log.error({ err: error }, 'unexpected error');
  }
  const errors = error instanceof ApiError ? error.errors : undefined;
  return reply.code(status).send(failure(request.id, status, detail, pathOf(request), errors));
}

/** Set when the client went away mid-request: our parser's ClientAbort, or a reset on a request that never completed. */
function isClientAbort(error: FastifyError, request: FastifyRequest): boolean {
  if (error instanceof ClientAbort) return true;
  return (error.code === 'ECONNRESET' || error.code === 'ECONNABORTED') && request.raw.destroyed && !request.raw.complete;
}

function describeContentType(header: string | undefined): string {
  if (header === undefined) return 'The request has a body but no Content-Type.';
  const type = header.split(';')[0]!.trim().slice(0, 80);
  return `Content-Type "${type.replace(/[^\x20-\x7e]/g, '?')}" is not accepted.`;
}
