/**
 * Optional authentication for the REST API: HTTP basic (username/password pairs) and/or bearer
 * tokens. Secrets are compared in constant time (SHA-256 of both sides, then timingSafeEqual over
 * every configured entry, never stopping at the first match) and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface RegistryAuthOptions {
  basic?: Array<{ username: string; password: string }>;
  bearerTokens?: string[];
}

export const AUTH_REALM = 'sluice-schema-registry';

export interface Authenticator {
  /** Whether the Authorization header carries valid credentials. */
  check(authorization: string | undefined): boolean;
  /** WWW-Authenticate challenges to send with a 401. */
  challenges: string[];
}

/** undefined when no authentication is configured. */
export function createAuthenticator(opts: RegistryAuthOptions | undefined): Authenticator | undefined {
  const basic = (opts?.basic ?? []).map((c) => digest(`${c.username}:${c.password}`));
  const bearer = (opts?.bearerTokens ?? []).map((t) => digest(t));
  if (basic.length === 0 && bearer.length === 0) return undefined;
  const challenges: string[] = [];
  if (basic.length > 0) challenges.push(`Basic realm="${AUTH_REALM}", charset="UTF-8"`);
  if (bearer.length > 0) challenges.push(`Bearer realm="${AUTH_REALM}"`);
  return {
    challenges,
    check(authorization) {
      if (typeof authorization !== 'string') return false;
      const space = authorization.indexOf(' ');
      if (space < 0) return false;
      const scheme = authorization.slice(0, space).toLowerCase();
      const value = authorization.slice(space + 1).trim();
      if (scheme === 'basic' && basic.length > 0) return matchesAny(basic, digest(Buffer.from(value, 'base64').toString('utf8')));
      if (scheme === 'bearer' && bearer.length > 0) return matchesAny(bearer, digest(value));
      return false;
    },
  };
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

function matchesAny(known: readonly Buffer[], candidate: Buffer): boolean {
  let ok = false;
  for (const k of known) ok = timingSafeEqual(k, candidate) || ok;
  return ok;
}
