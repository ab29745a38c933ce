import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { parseDocument } from 'yaml';
import { LgError } from '../errors.js';
import { ConfigSchema, type Config } from './schema.js';
import { DEVICE_KINDS } from './devices/index.js';
import { SINK_KINDS } from './upstream-schema.js';
import { compileBatchPattern } from '../domain/numbering.js';
import { deviceChecks } from './device-checks.js';

/**
 * YAML → secrets (`${env:NAME}`, `${env:NAME:-default}`, `${cred:NAME}` from systemd's
 * $CREDENTIALS_DIRECTORY) → defaults → validation of everything at once (every error as
 * `path: message`) → semantic checks → deep-freeze.
 *
 * Substitution happens on parsed string values, never on the YAML text, so a secret containing
 * YAML syntax cannot change the document's structure.
 */

export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends LgError {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super('LG_ERR_CONFIG_INVALID', { file, detail: issues.map((i) => `  ${i.path}: ${i.message}`).join('\n') });
  }
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** The packaged devices/ folder (tests); default the one shipped with linegate. */
  devicesDir?: string;
  /**
   * `check-config --no-secrets`: a `${env:…}`/`${cred:…}` without a value is not an error, and the
   * schema is not applied to the values that hold one (the file is checked, not this machine).
   */
  allowMissingSecrets?: boolean;
}

export function loadConfigFile(file: string, opts: LoadOptions = {}): Readonly<Config> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new LgError('LG_ERR_CONFIG_NOT_FOUND', { file });
    throw new ConfigError(file, [{ path: '(file)', message: (err as Error).message }]);
  }
  return parseConfig(text, file, opts);
}

export function parseConfig(text: string, file = '(inline)', opts: LoadOptions = {}): Readonly<Config> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // One syntax error cascades into many; the first few are the useful ones.
    throw new ConfigError(
      file,
      doc.errors.slice(0, 5).map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}:${e.linePos[0].col}` : '(yaml)', message: e.message.split('\n')[0]! })),
    );
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: '(root)', message: 'the file must be a YAML mapping' }]);
  }
  const issues: ConfigIssue[] = [];
  const unresolved = new Set<string>();
  const substituted = substitute(raw, '', opts.env ?? process.env, issues, opts.allowMissingSecrets ? unresolved : null);
  const value = prepare(ConfigSchema, substituted);
  collect(ConfigSchema, value, '', issues);

  const cfg = value as Config;
  if (Array.isArray(cfg.devices)) {
    cfg.devices.forEach((d, i) => {
      if (!d || typeof d !== 'object') return;
      const schema = DEVICE_KINDS[d.kind];
      if (!schema) {
        if (typeof d.kind === 'string' && Object.keys(DEVICE_KINDS).length > 0) {
          issues.push({ path: `devices[${i}].kind`, message: `unknown device kind "${d.kind}" (known: ${Object.keys(DEVICE_KINDS).join(', ')})` });
        }
        return;
      }
      // `enabled` belongs to every device (the base schema); kind schemas need not list it.
      const { enabled, ...rest } = d;
      const hasEnabled = !!(schema as { properties?: Record<string, unknown> }).properties?.enabled;
      const prepared = prepare(schema, hasEnabled ? d : rest) as typeof d;
      collect(schema, prepared, `devices[${i}]`, issues);
      cfg.devices[i] = { ...prepared, enabled: enabled ?? prepared.enabled ?? true };
    });
  }
  const sinks = (cfg.upstream as { sinks?: Array<{ kind: string }> } | undefined)?.sinks;
  if (Array.isArray(sinks)) {
    sinks.forEach((sk, i) => {
      const schema = sk && SINK_KINDS[sk.kind];
      if (!schema) return;
      const prepared = prepare(schema, sk) as typeof sk;
      sinks[i] = prepared;
      collect(schema, prepared, `upstream.sinks[${i}]`, issues);
    });
  }
  // --no-secrets: a value that is still a reference cannot be checked against its field.
  const dropUnresolved = (): void => {
    if (unresolved.size === 0) return;
    const kept = issues.filter((i) => !unresolved.has(i.path));
    issues.length = 0;
    issues.push(...kept);
  };
  dropUnresolved();
  if (issues.length === 0) semanticChecks(cfg, issues);
  if (issues.length === 0) deviceChecks(cfg, issues, opts.devicesDir);
  dropUnresolved();
  if (issues.length > 0) throw new ConfigError(file, issues);
  return deepFreeze(cfg);
}

function prepare(schema: TSchema, value: unknown): unknown {
  const withDefaults = Value.Default(schema, fillDefaultableObjects(schema, Value.Clone(value)));
  return Value.Convert(schema, withDefaults);
}

/**
 * A missing REQUIRED object property whose own required fields can all be left out (e.g.
 * `batch: {maxRecords, …}`) is created empty so that Value.Default can fill it — a section need
 * not be written out just to take its defaults.
 *
 * An OPTIONAL object (`overrides`, `feedback`, `tls`…) is never invented (issue 10.11): an empty
 * `overrides: {feedback: {}}` filled with defaults silently replaced every scanner profile's beeps
 * and AIM setting. Absent means absent; only what the user wrote is there.
 */
function fillDefaultableObjects(schema: TSchema, value: unknown): unknown {
  const s = schema as { type?: string; properties?: Record<string, TSchema>; required?: string[] };
  if (s.type !== 'object' || !s.properties || !value || typeof value !== 'object' || Array.isArray(value)) return value;
  const obj = value as Record<string, unknown>;
  const required = new Set(s.required ?? []);
  for (const [key, sub] of Object.entries(s.properties)) {
    const ss = sub as { type?: string; properties?: Record<string, TSchema> };
    if (obj[key] === undefined && required.has(key) && ss.type === 'object' && ss.properties && omittable(sub)) {
      obj[key] = {};
    }
    if (obj[key] !== undefined) obj[key] = fillDefaultableObjects(sub, obj[key]);
  }
  return obj;
}

/**
 * Whether a field may be left out of the YAML although the type says it is required: it has a
 * default, or it is an object whose required fields may all be left out (the loader creates it).
 * The published JSON Schema (src/config/published.ts) uses the same rule, so editors and the
 * loader agree on what must be written.
 */
export function omittable(schema: TSchema): boolean {
  const s = schema as { default?: unknown; type?: string; properties?: Record<string, TSchema>; required?: string[] };
  if (s.default !== undefined) return true;
  if (s.type !== 'object' || !s.properties) return false;
  return (s.required ?? []).every((r) => s.properties![r] !== undefined && omittable(s.properties![r]!));
}

function collect(schema: TSchema, value: unknown, prefix: string, issues: ConfigIssue[]): void {
  const seen = new Set<string>();
  for (const err of Value.Errors(schema, value)) {
    const path = joinPath(prefix, err.path);
    // Unions report one error per branch plus a summary; keep one line per path.
    const key = `${path}\u0000${err.message}`;
    if (seen.has(path) || seen.has(key)) continue;
    seen.add(path);
    seen.add(key);
    issues.push({ path, message: describe(err.message, err.schema) });
  }
}

function describe(message: string, schema: TSchema): string {
  const anyOf = (schema as unknown as { anyOf?: Array<{ const?: unknown }> } | undefined)?.anyOf;
  if (Array.isArray(anyOf)) {
    const literals = anyOf
      .map((s) => s.const)
      .filter((c) => c !== undefined);
    if (literals.length) return `must be one of ${literals.map((l) => JSON.stringify(l)).join(', ')}`;
  }
  return message.charAt(0).toLowerCase() + message.slice(1);
}

/** `/stations/0/id` → `stations[0].id` */
function joinPath(prefix: string, pointer: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = prefix;
  for (const p of parts) {
    if (/^\d+$/.test(p)) out += `[${p}]`;
    else out += out ? `.${p}` : p;
  }
  return out || '(root)';
}

const REF = /\$\{(env|cred):([A-Za-z_][A-Za-z0-9_.-]*)(?::-([^}]*))?\}/g;
/** `$${` writes a literal `${` (escape), so a value may contain one on purpose. */
const ESCAPED = /\$\$\{/g;
const ESC_MARK = '\u0000lg-escaped-ref\u0000';

/**
 * Issue 10.12: anything that starts like a reference but is not a well-formed one
 * (`${env:}`, `${env:NAME`, `${ENV:NAME}`, `${secret:X}`) is an error, never kept as literal text
 * (a password of "${env:ERP_TOKN" would be sent to the ERP).
 */
function checkMalformed(text: string, path: string, issues: ConfigIssue[]): void {
  const at = text.indexOf('${');
  if (at < 0) return;
  const snippet = text.slice(at, at + 40);
  issues.push({
    path: path || '(root)',
    message: `malformed reference "${snippet}" — write \${env:NAME}, \${env:NAME:-default} or \${cred:NAME} (names: letters, digits, _ . -; $\${ for a literal \${)`,
  });
}

function substitute(v: unknown, path: string, env: NodeJS.ProcessEnv, issues: ConfigIssue[], unresolved: Set<string> | null = null): unknown {
  if (typeof v === 'string') {
    const p = path || '(root)';
    const escaped = v.replace(ESCAPED, ESC_MARK);
    const out = escaped.replace(REF, (whole, source: string, name: string, def: string | undefined) => {
      if (source === 'env') {
        const val = env[name];
        if (val !== undefined && val !== '') return val;
        if (def !== undefined) return def;
        if (unresolved) {
          unresolved.add(p);
          return whole;
        }
        issues.push({ path: path || '(root)', message: `environment variable ${name} is not set` });
        return '';
      }
      const dir = env.CREDENTIALS_DIRECTORY;
      if (!dir && unresolved) {
        if (def !== undefined) return def;
        unresolved.add(p);
        return whole;
      }
      if (!dir) {
        if (def !== undefined) return def;
        issues.push({ path: path || '(root)', message: `credential ${name} requested but $CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit)` });
        return '';
      }
      try {
        return readFileSync(join(dir, name), 'utf8').replace(/\r?\n$/, '');
      } catch {
        if (def !== undefined) return def;
        if (unresolved) {
          unresolved.add(p);
          return whole;
        }
        issues.push({ path: path || '(root)', message: `credential ${name} not found in ${dir}` });
        return '';
      }
    });
    // Only the file's own text is checked: a substituted secret may contain "${" legitimately.
    checkMalformed(escaped.replace(REF, ''), p, issues);
    return out.split(ESC_MARK).join('${');
  }
  if (Array.isArray(v)) return v.map((x, i) => substitute(x, `${path}[${i}]`, env, issues, unresolved));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = substitute(x, path ? `${path}.${k}` : k, env, issues, unresolved);
    return out;
  }
  return v;
}

function semanticChecks(cfg: Config, issues: ConfigIssue[]): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: cfg.site.timezone });
  } catch {
    issues.push({ path: 'site.timezone', message: `unknown time zone "${cfg.site.timezone}" (use an IANA name such as Europe/Berlin)` });
  }
  const stationIds = new Set<string>();
  cfg.stations.forEach((s, i) => {
    if (stationIds.has(s.id)) issues.push({ path: `stations[${i}].id`, message: `duplicate station id "${s.id}"` });
    stationIds.add(s.id);
  });
  const deviceIds = new Set<string>();
  cfg.devices.forEach((d, i) => {
    if (deviceIds.has(d.id)) issues.push({ path: `devices[${i}].id`, message: `duplicate device id "${d.id}"` });
    deviceIds.add(d.id);
    if (!stationIds.has(d.station)) issues.push({ path: `devices[${i}].station`, message: `station "${d.station}" is not defined under stations` });
  });
  const sinkIds = new Set<string>();
  (cfg.upstream?.sinks ?? []).forEach((s: { id: string }, i: number) => {
    if (sinkIds.has(s.id)) issues.push({ path: `upstream.sinks[${i}].id`, message: `duplicate sink id "${s.id}"` });
    sinkIds.add(s.id);
  });
  try {
    compileBatchPattern(cfg.numbering.batch);
  } catch (err) {
    issues.push({ path: 'numbering.batch', message: (err as Error).message });
  }
  try {
    new RegExp(cfg.numbering.badgePattern);
  } catch (err) {
    issues.push({ path: 'numbering.badgePattern', message: `not a valid regular expression: ${(err as Error).message}` });
  }
}

export function deepFreeze<T>(o: T): Readonly<T> {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}
