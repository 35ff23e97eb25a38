/**
 * An operator's request the accounts refuse (an invalid name, an existing client or user, no such
 * key): said as it is, not a fault. Its own module, so the command line can recognise it without
 * loading the accounts (see cli/main.ts).
 */
export class AccountError extends Error {}
