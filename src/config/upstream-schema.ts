import { Type } from '@sinclair/typebox';

/** Placeholder until src/config/upstream.ts lands: sinks by id and kind. */
export const UpstreamConfigSchema = Type.Object(
  {
    sinks: Type.Array(
      Type.Object(
        {
          id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$', description: 'Sink identifier (outbox rows are kept per sink).' }),
          kind: Type.String({ description: 'http or mqtt' }),
        },
        { additionalProperties: true },
      ),
      { default: [] },
    ),
  },
  { additionalProperties: true, default: {} },
);
