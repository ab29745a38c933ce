import { Type, type Static } from '@sinclair/typebox';

/** Per-station settings of the station page (config: `stations[].ui`). */
export const StationUiSchema = Type.Object(
  {
    lang: Type.Union([Type.Literal('en'), Type.Literal('de')], { default: 'en', description: 'Language of the station page (message catalogue: en, de).' }),
    idleSignOutSeconds: Type.Integer({
      minimum: 0,
      maximum: 86_400,
      default: 1800,
      description: 'Sign the operator out after this long without a scan, weight or touch at the station (0 = never).',
    }),
    wedge: Type.Object(
      {
        maxKeyIntervalMs: Type.Integer({ minimum: 5, maximum: 500, default: 40, description: 'Keyboard-wedge scanner: keys closer together than this, ending in Enter, are a scan.' }),
        minLength: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'Shorter bursts are typing, not a scan.' }),
        fnc1Substitute: Type.Optional(Type.String({ minLength: 1, maxLength: 4, description: 'What the wedge scanner types for GS/FNC1 (browsers lose 0x1D), e.g. "~" or "<GS>".' })),
      },
      { additionalProperties: false, default: {} },
    ),
    /** How long a verdict is shown as current before it is marked as old. */
    verdictFreshSeconds: Type.Integer({ minimum: 1, maximum: 600, default: 8, description: 'A verdict older than this is shown as old, not as the current one.' }),
  },
  { additionalProperties: false, default: {} },
);

export type StationUi = Static<typeof StationUiSchema>;

export const STATION_UI_DEFAULTS: StationUi = { lang: 'en', idleSignOutSeconds: 1800, wedge: { maxKeyIntervalMs: 40, minLength: 4 }, verdictFreshSeconds: 8 };

export function stationUi(s: { ui?: Partial<StationUi> }): StationUi {
  return { ...STATION_UI_DEFAULTS, ...(s.ui ?? {}), wedge: { ...STATION_UI_DEFAULTS.wedge, ...(s.ui?.wedge ?? {}) } };
}
