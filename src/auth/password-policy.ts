/**
 * Contract 6.3's password policy: at least 12 characters and not the user ID. (An upper bound too:
 * scrypt's cost grows with the input, and nobody types more than this.)
 */
const MIN_POLICY_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 256;

/** What is wrong with this password for this user, or null when it passes. */
export function passwordProblem(userId: string, password: unknown): string | null {
  if (typeof password !== 'string') return 'is required';
  const length = [...password].length;
  if (length < MIN_POLICY_PASSWORD_LENGTH) return `must be at least ${MIN_POLICY_PASSWORD_LENGTH} characters`;
  if (length > MAX_PASSWORD_LENGTH) return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  if (password.toLowerCase() === userId.toLowerCase()) return 'must not be the user ID';
  if (password.includes('\u0000') || !password.isWellFormed()) return 'must be text without NUL characters';
  return null;
}
