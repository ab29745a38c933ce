/**
 * Shapes of the generated GS1 Application Identifier table (see generate.ts and
 * ai-table.generated.ts). Kept apart from the generated file so the generator can import the
 * types without importing its own output.
 */

/**
 * Character set of a component, as the syntax dictionary names them:
 * N digits, X GS1 AI encodable character set 82, Y set 39, Z base64url (set 64).
 */
export type Cset = 'N' | 'X' | 'Y' | 'Z';

export interface AiComponent {
  readonly cset: Cset;
  readonly min: number;
  readonly max: number;
  /** `[...]` in the dictionary: may be left out once the data is exhausted. */
  readonly optional: boolean;
  /** Names of the GS1 syntax-test ("linter") procedures applied to this component, in order. */
  readonly linters: readonly string[];
}

export interface AiDefinition {
  readonly ai: string;
  readonly title: string;
  /**
   * False only for the "pre-defined length" AIs (`*` flag): no FNC1/GS needed after them.
   * Note: a fixed-length AI WITHOUT the flag (e.g. 8040, N15) still needs FNC1 when not last.
   */
  readonly fnc1Required: boolean;
  /** `?` flag: allowed as a GS1 Digital Link data attribute (query parameter). */
  readonly dlDataAttribute: boolean;
  readonly components: readonly AiComponent[];
  readonly minLength: number;
  readonly maxLength: number;
  /** Total length when every component is fixed and mandatory, else null. */
  readonly fixedLength: number | null;
  /**
   * Digital Link primary key: null if the AI is not one; otherwise the alternative ordered
   * qualifier sequences (`[[]]` = primary key without qualifiers; `dlpkey=22,10,21|235` =
   * `[['22','10','21'],['235']]`).
   */
  readonly dlpkey: readonly (readonly string[])[] | null;
  /**
   * Mandatory associations. One entry per `req=` attribute (each must be satisfied); each entry
   * lists alternatives; each alternative lists AI patterns that must all be present
   * (`req=01+21,02` = `[[['01','21'],['02']]]`). Patterns may end in `n` digits wildcards (`31nn`).
   */
  readonly req: readonly (readonly (readonly string[])[])[];
  /** Invalid pairings: AI patterns (`310n`, `8111`) that must not appear together with this AI. */
  readonly ex: readonly string[];
  /**
   * Decimal-point AIs (310n, 392n, …): number of implied decimals = last digit of the AI.
   * Applies to the last component (after the ISO 4217 currency for 391n/393n). Null otherwise.
   */
  readonly decimals: number | null;
  /** Unit of measure taken from the title for measure AIs, e.g. 'kg' for 310n; else null. */
  readonly unit: string | null;
}
