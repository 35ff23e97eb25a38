import { notImplementedGroup } from '../http/operation.js';

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

const userIdParameter = { name: 'userID', in: 'path', required: true, description: 'user_ID', schema: { type: 'string', minLength: 1 } };
const words = (route: string) =>
  route.replace(/\{userID\}/, '').split(/[^a-z]+/i).map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');

export const notImplementedOperations = notImplementedGroup(
  NOT_IMPLEMENTED_ROUTES.map((route) => ({
    operationId: `NotImplemented${words(route)}`,
    method: 'post' as const,
    path: route,
    access: 'public' as const,
    tags: [route.includes('mfa') ? 'MultiFactorAuth' : route.startsWith('/users') ? 'User' : 'Authentication'],
    summary: 'Not implemented here (501): the vendor delivers these codes by e-mail through its own service',
    description: 'Answers 501 in the envelope whatever the request carries; `error.detail` names the route and says what to use instead.',
    ...(route.includes('{userID}') ? { pathParameters: [userIdParameter] } : {}),
    envelope: 'StringVBAResponse',
  })),
  'the vendor delivers these codes by e-mail through its own service. An administrator can reset a password instead ' +
    '(POST /users/{userID}/admin-reset-password) or turn MFA on or off per user (POST /mfa-enable, /mfa-disable).',
);
