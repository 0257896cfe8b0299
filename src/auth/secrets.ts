/** Password hashing, random credentials and their stored hashes. */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number) => Promise<Buffer>;

/** Credential prefixes: they tell the context which lookup a bearer token needs without touching the database. */
export const CREDENTIAL_PREFIX = { session: 'pst_', secretKey: 'psk_', publishableKey: 'ppk_' } as const;

/** A new random credential (256 bits) with the given prefix. */
export function randomCredential(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** The stored form of a random credential. SHA-256 suffices: the input has 256 bits of entropy. */
export function credentialHash(credential: string): string {
  return createHash('sha256').update(credential).digest('hex');
}

/** scrypt hash as `scrypt$<salt>$<hash>` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password.normalize('NFKC'), salt, 32);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, saltB64, hashB64] = stored.split('$');
  if (scheme !== 'scrypt' || !saltB64 || !hashB64) return false;
  const expected = Buffer.from(hashB64, 'base64url');
  const actual = await scrypt(password.normalize('NFKC'), Buffer.from(saltB64, 'base64url'), expected.length);
  return timingSafeEqual(actual, expected);
}
