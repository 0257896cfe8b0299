/** Standard Webhooks signing secrets: `whsec_` + base64 of 24..64 random bytes (the spec's recommended range). */
import { randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
const MIN_BYTES = 24;
const MAX_BYTES = 64;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A new secret: `whsec_` + base64 of 24 random bytes. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(MIN_BYTES).toString('base64')}`;
}

/** True for `whsec_` + canonical base64 of 24..64 bytes (what the `standardwebhooks` libraries accept). */
export function isValidWebhookSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false;
  const body = secret.slice(SECRET_PREFIX.length);
  if (!body || !BASE64.test(body)) return false;
  const bytes = Buffer.from(body, 'base64').length;
  return bytes >= MIN_BYTES && bytes <= MAX_BYTES;
}
