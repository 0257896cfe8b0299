/**
 * One helper for the house mutation convention: `name(input: NameInput!): NameResult!`, where
 * `NameResult = NamePayload | NotFoundError | ForbiddenError | ValidationError | ConflictError | UnauthenticatedError`.
 * Resolvers stay thin: they call a service and return what the payload exposes.
 */
import type { FieldMap, InputFieldMap, InputShapeFromFields, SchemaTypes } from '@pothos/core';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import { fromDatabaseError } from '../errors.js';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
type AuthScopes = Types extends SchemaTypes ? Types['AuthScopes'] : never;

export interface MutationSpec<Fields extends InputFieldMap, Shape extends object> {
  description: string;
  /** Credentials allowed to call it (any of them); failures become UnauthenticatedError / ForbiddenError. */
  authScopes?: Partial<{ [K in keyof AuthScopes]: boolean }>;
  input: (t: PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>) => Fields;
  /** Write `resolve` before `payload` in the spec object: TypeScript infers the payload shape from `resolve`. */
  payload: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, NoInfer<Shape>>) => FieldMap;
  resolve: (input: InputShapeFromFields<Fields>, ctx: Context) => Promise<Shape>;
}

const capitalize = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}`;

/** Defines a mutation with its input type, payload type and result union. */
export function defineMutation<Fields extends InputFieldMap, Shape extends object>(
  name: string,
  spec: MutationSpec<Fields, Shape>,
): void {
  const Name = capitalize(name);
  const Input = builder.inputType(`${Name}Input`, { fields: spec.input });
  const Payload = builder.objectRef<Shape>(`${Name}Payload`).implement({ fields: spec.payload });
  const run = async (input: InputShapeFromFields<Fields>, ctx: Context): Promise<Shape> => {
    try {
      return await spec.resolve(input, ctx);
    } catch (err) {
      // Database errors that input can cause (unique violation, NUL byte, serialization failure) become typed
      // members of the result union; anything else propagates and is masked.
      throw fromDatabaseError(err) ?? err;
    }
  };
  builder.mutationField(name, (t) =>
    t.field({
      type: Payload,
      description: spec.description,
      args: { input: t.arg({ type: Input, required: true }) },
      ...(spec.authScopes ? { authScopes: spec.authScopes } : {}),
      errors: {},
      // Pothos cannot follow the generic input shape through the ref; the input type was built from `spec.input`.
      resolve: (_root, args, ctx) => run((args as { input: InputShapeFromFields<Fields> }).input, ctx) as never,
    }),
  );
}
