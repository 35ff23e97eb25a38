import type { FastifyInstance } from 'fastify';
import { ApiError } from '../http/errors.js';

/**
 * Contract 6.5: the vendor's routes that deliver codes by e-mail through its own service. This
 * server sends no mail, so each answers 501 in the envelope, naming itself, whatever the
 * credentials: a generated client gets a clear "not here" rather than a 404 that looks like a typo.
 */
export const NOT_IMPLEMENTED_ROUTES = [
  '/forgot-password',
  '/confirm-forgot-password',
  '/users/{userID}/resend-confirmation-code',
  '/users/{userID}/resend-welcome-message',
  '/mfa-enable-globally',
  '/mfa-disable-globally',
] as const;

export function notImplementedRoutes(app: FastifyInstance): void {
  for (const route of NOT_IMPLEMENTED_ROUTES) {
    app.post(route.replace(/\{(\w+)\}/g, ':$1'), async () => {
      throw new ApiError(
        501,
        `POST ${route} is not implemented by this server: the vendor delivers these codes by e-mail through its own service. ` +
          'An administrator can reset a password instead (POST /users/{userID}/admin-reset-password) or turn MFA on or off per user (POST /mfa-enable, /mfa-disable).',
      );
    });
  }
}
