import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { ERRORS, type ErrorCode } from '../errors.js';

/**
 * docs/errors.md, generated from the one error table (src/errors.ts) by `npm run docs:errors`;
 * test/unit/ops/error-docs.test.ts fails when the checked-in file differs from what this renders.
 *
 * Meaning is the message template. What to do is the part of the message after " — " when the
 * message says it (most do), else the specific advice below, else the advice for its section and
 * HTTP status. Sections are the `// ── name ──` headings of src/errors.ts.
 */

/** Advice for codes whose message does not say what to do. Keep it short and true. */
const ADVICE: Partial<Record<ErrorCode, string>> = {
  LG_ERR_VALIDATION: 'Fix the request as `details.errors` lists (path and message); the same request fails again unchanged.',
  LG_ERR_BAD_JSON: 'Send a valid JSON body with `content-type: application/json`.',
  LG_ERR_BODY_TOO_LARGE: 'Send less per request (page it), or raise `api.bodyLimitBytes`.',
  LG_ERR_NOT_FOUND: 'Check the method and path against `/openapi.json`.',
  LG_ERR_AUTH_INVALID: 'Use a current token; an admin issues a new one (`linegate user token ID`).',
  LG_ERR_FORBIDDEN: 'Ask a user with one of the allowed roles to do it.',
  LG_ERR_CONFLICT: 'It exists already: update it (PUT) instead of creating it again.',
  LG_ERR_CONFIG_INVALID: 'Fix every listed `path: message` in the file; check with `linegate check-config FILE` (exit 78 until valid). Restarting does not help.',
  LG_ERR_CONFIG_ENV_MISSING: 'Set the variable in the unit\'s EnvironmentFile (/etc/linegate/linegate.env) or use `${cred:NAME}`.',
  LG_ERR_CLI_USAGE: 'See `linegate help`.',
  LG_ERR_STORE_CLOSED: 'The gateway is stopping: wait for it to start again; the device or client retries.',
  LG_ERR_STORE_MIGRATION: 'Do not start this version on that journal again: restore the backup taken before the upgrade (`linegate restore`), keep the failed journal, and report the message.',
  LG_ERR_STORE_TOO_NEW: 'A downgrade is refused: install the linegate version that wrote the journal (or newer), or restore a backup taken before the upgrade.',
  LG_ERR_AUDIT_CHAIN_BROKEN: 'The audit trail was altered outside linegate: stop, keep the database as evidence, tell QA; `linegate audit verify` names the first broken entry.',
  LG_ERR_BATCH_INVALID_TRANSITION: 'Check the batch status (`GET /batches/:number`); only the lifecycle\'s transitions are allowed.',
  LG_ERR_BATCH_NUMBER_PATTERN: 'Fix `numbering.batch` in the configuration.',
  LG_ERR_REASON_REQUIRED: 'Give a `reason` with the request.',
  LG_ERR_SIGNATURE_REQUIRED: 'Sign the release as QA (user id and signing secret).',
  LG_ERR_SIGNATURE_MEANING: 'Use one of the allowed meanings.',
  LG_ERR_SECRET_POLICY: 'Choose a signing secret that meets the policy named in the message.',
  LG_ERR_SCAN_UNPARSEABLE: 'Check the scanner\'s configuration (suffix, FNC1 as GS) and the label.',
  LG_ERR_SCAN_UNRECOGNISED: 'Scan a known lot, batch, badge or command; `payload.raw` of the record shows what the scanner sent.',
  LG_ERR_SCAN_DUPLICATE: 'Nothing: the second scan is recorded, not counted.',
  LG_ERR_GS1_INVALID: 'The label is wrong (`details.linter` names the check): tell whoever printed it.',
  LG_ERR_GS1_CHECK_DIGIT: 'The label is wrong: tell whoever printed it.',
  LG_ERR_GS1_DATE: 'The label is wrong: tell whoever printed it.',
  LG_ERR_UNKNOWN_GTIN: 'Add the GTIN to the material master (ERP).',
  LG_ERR_UNKNOWN_BADGE: 'Assign the badge to a user (`PATCH /users/:id`).',
  LG_ERR_OVERRIDE_INVALID: 'Only a refused lot scan can be overridden, once, by a supervisor with a reason.',
  LG_ERR_READING_INVALID: 'Check the device and its profile; the reading is kept as a rejected record.',
  LG_ERR_CORRECTION_INVALID: 'Only an accepted consumption can be corrected.',
  LG_ERR_CORRECTION_TOO_LARGE: 'Correct at most what the record consumed.',
  LG_ERR_ALREADY_CORRECTED: 'Nothing more to do; a further change needs a new consumption.',
  LG_ERR_WEIGHT_PAYLOAD: 'Check the scale profile\'s payload format against what the scale publishes.',
  LG_ERR_WEIGHT_UNIT: 'Set the scale to a supported unit (kg, g, lb, oz) or fix the profile.',
  LG_ERR_WEIGHT_OUT_OF_RANGE: 'Check the weight and the scale\'s configured range.',
  LG_ERR_WEIGHT_OUT_OF_TOLERANCE: 'Re-weigh within tolerance, or have a supervisor accept it with a reason (a deviation is raised).',
  LG_ERR_OPCUA_NODE_INVALID: 'Fix the node map in the machine profile (`devices/machines/`).',
  LG_ERR_OPCUA_CONNECT_FAILED: 'Check the PLC\'s network and endpoint URL; linegate retries by itself.',
  LG_ERR_MACHINE_STATE_UNKNOWN: 'Check the PLC program\'s PackML state values against the node map.',
  LG_ERR_WEIGHT_UNIT_MISSING: 'Set `payloadUnit` in the scale profile.',
  LG_ERR_WEIGHT_STABILITY_UNKNOWN: 'Configure software stability in the scale profile.',
  LG_ERR_DEVICE_DISCONNECTED: 'Nothing, unless it lasts: check the device; linegate reconnects by itself.',
  LG_ERR_DEVICE_UNKNOWN_KIND: 'Fix the device\'s `kind` in the configuration.',
  LG_ERR_DEVICE_PROFILE: 'Fix the profile file under `devices/` or the profile name in the configuration.',
  LG_ERR_LABEL_FIELD_TOO_LONG: 'Shorten the value, or widen the field in the label template.',
  LG_ERR_LABEL_TEMPLATE: 'Fix the label template under `devices/labels/`.',
  LG_ERR_LABEL_BARCODE_TOO_WIDE: 'Use a smaller module width or a wider label in the template.',
  LG_ERR_PRINTER_BUFFER_FULL: 'Nothing: the job waits and is sent when the printer has room.',
  LG_ERR_PRINT_JOB_STATE: 'Check the job\'s state (`GET /print-jobs/:id`).',
  LG_ERR_LABEL_FIELD_MISSING: 'Provide the field, or fix the template.',
  LG_ERR_LABEL_FIELD_INVALID: 'Fix the value as the message says.',
  LG_ERR_SINK_UNREACHABLE: 'Check the ERP\'s URL and network; records wait in the outbox and are sent when it answers.',
  LG_ERR_SINK_REFUSED: 'The ERP refused the record: it is quarantined; fix the cause at the ERP, then replay it (`POST /upstream/sinks/:id/quarantine/replay`).',
};

/** Advice by HTTP status when neither the message nor ADVICE says more. */
function byStatus(status: number, retryable: boolean, section: string): string {
  if (section.startsWith('reading rejections')) return 'The reading is journaled as a rejected record with this code; the operator does what the message says.';
  if (retryable) return 'Transient: try again later (devices and sinks are retried by linegate itself); if it lasts, check the part named in the message.';
  if (status === 404) return 'Check the identifier; master data comes from the ERP or the API.';
  if (status === 409) return 'The current state does not allow it: read the entity\'s state first.';
  if (status === 401) return 'Authenticate as the message says.';
  if (status === 403) return 'Ask someone allowed to do it.';
  if (status >= 400 && status < 500) return 'Fix the input as the message says; the same request fails again unchanged.';
  return 'Fix the configuration or installation named in the message, then restart; report it with the log line if it persists.';
}

export interface ErrorDoc {
  code: ErrorCode;
  section: string;
  status: number;
  retryable: boolean;
  meaning: string;
  action: string;
}

/** Section headings of src/errors.ts, by code (empty when the source is not at hand). */
export function sectionsFrom(source: string): Map<string, string> {
  const out = new Map<string, string>();
  let section = '';
  for (const line of source.split('\n')) {
    const h = /^\s*\/\/ ── (.+?) ─+\s*$/.exec(line);
    if (h) section = h[1]!.trim();
    const c = /^\s*(LG_ERR_[A-Z0-9_]+):/.exec(line);
    if (c) out.set(c[1]!, section);
  }
  return out;
}

export function errorDocs(source: string): ErrorDoc[] {
  const sections = sectionsFrom(source);
  return (Object.keys(ERRORS) as ErrorCode[]).map((code) => {
    const spec = ERRORS[code];
    const section = sections.get(code) ?? '';
    const i = spec.message.indexOf(' — ');
    const meaning = i >= 0 ? spec.message.slice(0, i) : spec.message;
    const said = i >= 0 ? spec.message.slice(i + 3) : '';
    const action = ADVICE[code] ?? (said ? said.charAt(0).toUpperCase() + said.slice(1) + '.' : byStatus(spec.status, spec.retryable, section));
    return { code, section, status: spec.status, retryable: spec.retryable, meaning, action };
  });
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderErrorDocs(source: string): string {
  const docs = errorDocs(source);
  const lines = [
    '# linegate error reference',
    '',
    '<!-- Generated from src/errors.ts by `npm run docs:errors`; do not edit by hand (a test compares). -->',
    '',
    'Every error linegate reports carries one of these stable codes: API answers (`{code, message, details}`',
    'with the HTTP status below), rejected records (`errorCode`; the HTTP status does not apply there),',
    'the log, and the CLI. A code is never reused or renamed. *Retryable* means trying the same thing',
    'later can succeed without anyone changing anything. `{name}` in a meaning is filled from `details`.',
    '',
  ];
  let section: string | null = null;
  for (const d of docs) {
    if (d.section !== section) {
      section = d.section;
      lines.push(`## ${section || 'other'}`, '', '| code | HTTP | retryable | meaning | what to do |', '|---|---|---|---|---|');
    }
    lines.push(`| \`${d.code}\` | ${d.status} | ${d.retryable ? 'yes' : 'no'} | ${cell(d.meaning)} | ${cell(d.action)} |`);
    const next = docs[docs.indexOf(d) + 1];
    if (!next || next.section !== section) lines.push('');
  }
  return lines.join('\n');
}

/** The repository root (where package.json and src/errors.ts are), from src/ or dist/src/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'errors.ts'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('src/errors.ts not found: run from a linegate checkout');
}

const invoked = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invoked) {
  const root = repoRoot();
  const md = renderErrorDocs(readFileSync(join(root, 'src', 'errors.ts'), 'utf8'));
  const out = process.argv[2];
  if (out) writeFileSync(resolve(out), md);
  else process.stdout.write(md);
}
