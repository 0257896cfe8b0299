/**
 * Typed errors. Services throw these; plugin-errors turns them into members of each mutation's result union, and
 * queries surface them as GraphQL errors with `extensions.code`. Anything else is masked by yoga.
 */
import { GraphQLError } from 'graphql';

export const ERROR_CODES = [
  'NOT_FOUND',
  'FORBIDDEN',
  'VALIDATION',
  'CONFLICT',
  'UNAUTHENTICATED',
  'LIMIT_EXCEEDED',
  'SLOW_CONSUMER',
  'UNAVAILABLE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;
}

/** Not found, or not visible to the viewer: the two are indistinguishable on purpose (no existence oracle). */
export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND' as const;
  constructor(message = 'Not found') {
    super(message);
  }
}

export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN' as const;
  constructor(message = 'Not allowed') {
    super(message);
  }
}

export class ConflictError extends AppError {
  readonly code = 'CONFLICT' as const;
}

export class UnauthenticatedError extends AppError {
  readonly code = 'UNAUTHENTICATED' as const;
  constructor(message = 'Authentication required') {
    super(message);
  }
}

/** A configured limit was reached (subscriptions per connection, connections per user). */
export class LimitExceededError extends AppError {
  readonly code = 'LIMIT_EXCEEDED' as const;
}

/**
 * The server ended a live stream for a reason other than access: SLOW_CONSUMER (the client did not read and its
 * buffer filled up) or UNAVAILABLE (the server is shutting down). Resubscribe with the last cursor to resume.
 */
export class StreamEndedError extends AppError {
  constructor(
    readonly code: 'SLOW_CONSUMER' | 'UNAVAILABLE',
    message: string,
  ) {
    super(message);
  }
}

export interface FieldIssue {
  path: string[];
  message: string;
}

export class ValidationError extends AppError {
  readonly code = 'VALIDATION' as const;
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }

  /** A validation error about one input field. */
  static field(path: string[], message: string): ValidationError {
    return new ValidationError(`${path.join('.')}: ${message}`, [{ path, message }]);
  }
}

/** The same error as a GraphQLError, for query fields (which have no result union). */
export function toGraphQLError(error: AppError): GraphQLError {
  return new GraphQLError(error.message, {
    extensions: { code: error.code, ...(error instanceof ValidationError ? { issues: error.issues } : {}) },
  });
}

/**
 * Maps PostgreSQL errors that bad input can cause to typed errors. Works on raw pg errors and on Prisma's driver
 * adapter errors (which carry the SQLSTATE in `cause.originalCode` / `meta.code`).
 */
export function fromDatabaseError(error: unknown): AppError | null {
  const code = sqlState(error);
  switch (code) {
    case '23505':
      return new ConflictError('Already exists');
    case '22021':
    case '22P05':
      return new ValidationError('Text contains bytes that cannot be stored (e.g. NUL)');
    case '40001':
    case '40P01':
      return new ConflictError('Concurrent update, please retry');
    case '23503':
      return new NotFoundError();
    case '22001':
      return new ValidationError('Value too long');
    case '22003':
    case '22008':
    case '22007':
      return new ValidationError('Value out of range');
    default:
      return null;
  }
}

/** The SQLSTATE of a database error, wherever the driver or Prisma put it. */
export function sqlState(error: unknown): string | null {
  const seen = new Set<unknown>();
  let e: unknown = error;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const rec = e as Record<string, unknown>;
    for (const key of ['originalCode', 'code']) {
      const v = rec[key];
      if (typeof v === 'string' && /^[0-9A-Z]{5}$/.test(v) && !v.startsWith('P')) return v;
    }
    const meta = rec.meta as Record<string, unknown> | undefined;
    if (meta && typeof meta.code === 'string') return meta.code;
    const driver = meta?.driverAdapterError as Record<string, unknown> | undefined;
    e = driver ?? rec.cause;
  }
  return null;
}
