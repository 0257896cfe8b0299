/** The Error interface and the typed error objects every mutation result union carries. */
import { builder } from '../builder.js';
import {
  AppError,
  ConflictError,
  ERROR_CODES,
  ForbiddenError,
  NotFoundError,
  UnauthenticatedError,
  ValidationError,
  type FieldIssue,
} from '../errors.js';

export const ErrorCodeEnum = builder.enumType('ErrorCode', { values: ERROR_CODES });

export const ErrorInterface = builder.interfaceRef<AppError>('Error').implement({
  description: 'Implemented by every error a mutation can return.',
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
  }),
});

const FieldIssueRef = builder.objectRef<FieldIssue>('FieldIssue').implement({
  description: 'One problem with one input field; `path` names the field, e.g. ["input", "text"].',
  fields: (t) => ({
    path: t.exposeStringList('path'),
    message: t.exposeString('message'),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'The object does not exist or the viewer may not see it (the two are indistinguishable).',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof NotFoundError,
});
builder.objectType(ForbiddenError, {
  name: 'ForbiddenError',
  description: 'The viewer may see the object but may not do this to it.',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof ForbiddenError,
});
builder.objectType(ConflictError, {
  name: 'ConflictError',
  description: 'The change conflicts with the current state (duplicate, not empty, concurrent update).',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof ConflictError,
});
builder.objectType(UnauthenticatedError, {
  name: 'UnauthenticatedError',
  description: 'No valid credential, or a credential of the wrong kind for this operation.',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof UnauthenticatedError,
});
builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'The input is invalid; `issues` lists each bad field.',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof ValidationError,
  fields: (t) => ({
    issues: t.field({ type: [FieldIssueRef], resolve: (e) => e.issues }),
  }),
});
