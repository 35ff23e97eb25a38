import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import { openApiDocument } from '../derive/openapi.js';
import { operations } from './operation-table.js';
import { DOCS_PAGE_SCRIPT } from './docs-page.js';
import { success } from './envelope.js';

/** What the page script defines (see docs-page.ts); only for typing the serialised interceptors. */
interface DocsWindow {
  vbapiDocs: { request(request: unknown): unknown; response(response: unknown, ui: () => unknown): unknown };
}
/** Swagger UI's instance, in scope where @fastify/swagger-ui pastes the interceptors' source. */
declare const ui: unknown;

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The OpenAPI document, built once per process from the record descriptions and the operation table. */
export const document = openApiDocument(version, operations);
/**
 * The same, as YAML (served at /openapi.yaml by the table's document operations). Made on first
 * request: writing it was about a tenth of the embedded server's start.
 */
let yaml: string | undefined;
export const documentYaml = (): string => (yaml ??= stringify(document));

/**
 * `GET /`: where to go from here. Browsers (who ask for HTML) are sent to the reference page;
 * everything else gets a small index in the envelope.
 */
export function indexRoute(app: FastifyInstance): void {
  app.get('/', async (request, reply) => {
    if (/\btext\/html\b/i.test(request.headers.accept ?? '')) return reply.redirect('/docs', 302);
    return success(request.id, {
      name: 'vbapi-server',
      version,
      links: { docs: '/docs', openapi: '/openapi.json', health: '/healthz' },
    });
  });
}

/** `GET /docs`: Swagger UI, its assets served from the package itself (no CDN), with a working "Try it out". */
export async function docsUi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: {
      docExpansion: 'list',
      deepLinking: true,
      persistAuthorization: true,
      tryItOutEnabled: true,
      // One-liners delegating to DOCS_PAGE_SCRIPT (window.vbapiDocs); `ui` is the page's SwaggerUI instance.
      requestInterceptor: function (request: unknown) {
        return (globalThis as never as DocsWindow).vbapiDocs.request(request);
      },
      responseInterceptor: function (response: unknown) {
        return (globalThis as never as DocsWindow).vbapiDocs.response(response, function () {
          return ui;
        });
      },
    } as never,
    theme: { title: 'VBAPI server', js: [{ filename: 'vbapi-docs.js', content: DOCS_PAGE_SCRIPT }] },
    staticCSP: true,
  });
}
