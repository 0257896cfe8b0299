/**
 * Shared zod validators for input fields (plugin-validation). A failing validator becomes a ValidationError in the
 * mutation's result union, with the field path, before any resolver or database work happens.
 */
import { z } from 'zod';

/** PostgreSQL text cannot hold NUL (SQLSTATE 22021), and lone UTF-16 surrogates cannot be encoded as UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text that PostgreSQL can store: no NUL bytes, no lone surrogates. */
export function storableText(schema: z.ZodString = z.string()) {
  return schema
    .refine((s) => !s.includes('\0'), { message: 'Must not contain NUL bytes' })
    .refine((s) => !LONE_SURROGATE.test(s), { message: 'Must not contain unpaired surrogates' });
}

/**
 * Free text, trimmed, `min..max` characters after trimming, storable (see {@link storableText}).
 * Use `{ trim: false }` for identifiers given by the client (kept verbatim).
 */
export function safeText(min: number, max: number, opts: { trim?: boolean } = {}) {
  const base = opts.trim === false ? z.string() : z.string().trim();
  return storableText(
    base.min(min, { message: min === 1 ? 'Must not be empty' : `Must be at least ${min} characters` }).max(max, {
      message: `Must be at most ${max} characters`,
    }),
  );
}

/** An email address, trimmed and lowercased. */
export const emailAddress = () => z.string().trim().toLowerCase().pipe(z.email({ message: 'Must be an email address' }).max(254));

/** An absolute http(s) URL (avatars, banners): other schemes such as `javascript:` are rejected. */
export const httpUrl = () =>
  storableText(z.string().trim().max(2000, { message: 'Must be at most 2000 characters' })).pipe(z.url({ protocol: /^https?$/, message: 'Must be an http(s) URL' }));

/** A DNS hostname such as `chat.example.com`, lowercased. */
export const hostname = () => z.string().trim().toLowerCase().max(253).pipe(z.hostname({ message: 'Must be a hostname' }));

/** A password: 8..200 characters, kept verbatim (never trimmed). */
export const password = () =>
  z.string().min(8, { message: 'Must be at least 8 characters' }).max(200, { message: 'Must be at most 200 characters' });

/** An opaque client-chosen key (idempotency keys): 1..128 printable ASCII characters, no spaces. */
export const clientKey = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'Must be 1 to 128 printable ASCII characters without spaces');

/** A reaction name such as "+1" or "tada": 1..64 characters, no whitespace or control characters. */
export const reactionName = z.string().regex(/^[^\s\p{C}]{1,64}$/u, 'Must be 1 to 64 characters without spaces or control characters');

/** Tags of a thread: up to 20, each 1..50 characters. */
export const tagList = z.array(safeText(1, 50)).max(20, 'At most 20 tags');

/** A list of ids: 1..`max` entries. */
export const idList = (max: number) => z.array(z.string().max(64)).min(1, 'At least one id').max(max, `At most ${max} ids`);
