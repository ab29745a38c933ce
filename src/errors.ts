/**
 * Every error code linegate can produce, in one table.
 *
 * Rules (see ARCHITECTURE.md):
 * - A code is never reused or renamed once released; retire it by leaving it here, unused.
 * - Tests assert the code, never the wording.
 * - Messages tell the person reading them what to do. Templates use `{name}` placeholders
 *   filled from `details`.
 * - A rejection of a reading is a value (a rejected record carrying the code), not a throw.
 *   `LgError` is for API answers, config, CLI and driver faults.
 */

export interface ErrorSpec {
  /** HTTP status when this error answers an API request. */
  readonly status: number;
  /** Message template; `{key}` is replaced from details. */
  readonly message: string;
  /** Whether trying the same thing again later can succeed without anyone changing anything. */
  readonly retryable: boolean;
}

function e(status: number, message: string, retryable = false): ErrorSpec {
  return { status, message, retryable };
}

export const ERRORS = {
  // ── generic / API ───────────────────────────────────────────────────────────
  LG_ERR_INTERNAL: e(500, 'internal error: {detail} — the daemon keeps running; report this with the log line', true),
  LG_ERR_VALIDATION: e(400, 'the request is not valid: {detail}'),
  LG_ERR_BAD_JSON: e(400, 'the request body is not valid JSON: {detail}'),
  LG_ERR_BODY_TOO_LARGE: e(413, 'the request body is larger than the limit of {limit} bytes'),
  LG_ERR_UNSUPPORTED_MEDIA_TYPE: e(415, 'send the body as application/json'),
  LG_ERR_NOT_FOUND: e(404, 'no such route: {method} {url}'),
  LG_ERR_AUTH_REQUIRED: e(401, 'send a bearer token in the Authorization header'),
  LG_ERR_AUTH_INVALID: e(401, 'the bearer token is unknown or disabled'),
  LG_ERR_FORBIDDEN: e(403, 'role {role} may not {action}; one of {allowed} is needed'),
  LG_ERR_RATE_LIMITED: e(429, 'too many requests; try again shortly', true),
  LG_ERR_NOT_READY: e(503, 'the gateway is starting or stopping; try again shortly', true),
  LG_ERR_CONFLICT: e(409, '{entity} {id} already exists'),

  // ── config and CLI ──────────────────────────────────────────────────────────
  LG_ERR_CONFIG_INVALID: e(500, 'configuration {file} is invalid:\n{detail}'),
  LG_ERR_CONFIG_NOT_FOUND: e(500, 'configuration file {file} not found — pass --config or set LINEGATE_CONFIG'),
  LG_ERR_CONFIG_ENV_MISSING: e(500, 'environment variable {name} is not set (referenced at {path})'),
  LG_ERR_CLI_USAGE: e(400, '{detail}'),

  // ── store / journal ─────────────────────────────────────────────────────────
  LG_ERR_STORE_WRITE_FAILED: e(503, 'the journal could not commit: {detail} — check disk space and the state folder', true),
  LG_ERR_STORE_CLOSED: e(503, 'the journal is closed (the gateway is stopping)', true),
  LG_ERR_STORE_MIGRATION: e(500, 'database migration {version} failed: {detail}'),
  LG_ERR_STORE_TOO_NEW: e(500, 'the database was written by a newer linegate (schema {found} > {supported}); upgrade linegate'),
  LG_ERR_AUDIT_CHAIN_BROKEN: e(500, 'audit entry {seq} does not match its hash chain: {detail}'),

  // ── master data and batches ─────────────────────────────────────────────────
  LG_ERR_BATCH_NOT_FOUND: e(404, 'batch {batch} not found'),
  LG_ERR_BATCH_INVALID_TRANSITION: e(409, 'batch {batch} cannot go from {from} to {to}'),
  LG_ERR_BATCH_NOT_OPEN: e(409, 'batch {batch} is {status}; only an open batch can be used'),
  LG_ERR_BATCH_NUMBER_PATTERN: e(500, 'batch number pattern {pattern} is invalid: {detail}'),
  LG_ERR_REASON_REQUIRED: e(400, 'a reason is required to {action}'),
  LG_ERR_SIGNATURE_REQUIRED: e(400, 'releasing a batch needs a QA signature: {detail}'),
  // ── electronic signatures (21 CFR Part 11) ──────────────────────────────────
  LG_ERR_SIGNATURE_INVALID: e(401, 'the signature was refused: {detail} — give your user id and your signing secret (not the token)'),
  LG_ERR_SIGNATURE_LOCKED: e(403, 'signing is locked for {user} since {since} after repeated failed attempts — an admin must unlock it (a signed action)'),
  LG_ERR_SIGNATURE_SECRET_EXPIRED: e(403, 'the signing secret of {user} expired at {since} — choose a new one (PUT /me/signing-secret) before signing'),
  LG_ERR_SIGNATURE_MEANING: e(400, 'a signature for {action} cannot mean "{meaning}"; allowed: {allowed}'),
  LG_ERR_SECRET_POLICY: e(400, 'the signing secret does not meet the policy: {detail}'),
  // ── deviations ──────────────────────────────────────────────────────────────
  LG_ERR_DEVIATION_NOT_FOUND: e(404, 'deviation {number} not found'),
  LG_ERR_DEVIATION_CLOSED: e(409, 'deviation {number} is closed; raise a new one to add to it'),
  LG_ERR_DEVIATION_NOT_INVESTIGATED: e(409, 'deviation {number} cannot be closed without an investigation: {missing}'),
  LG_ERR_CHECK_EXCEPTIONS_UNACKNOWLEDGED: e(409, 'batch {batch}: {count} exception(s) of the batch record not acknowledged by QA ({kinds}) — GET /batches/{batch}/exceptions'),
  LG_ERR_EXCEPTION_NOT_FOUND: e(404, 'batch {batch} has no exception {key}'),
  LG_ERR_EXCEPTION_ACKNOWLEDGED: e(409, 'exception {key} of batch {batch} was already acknowledged by {by}'),
  LG_ERR_STOCK_COUNT_INVALID: e(409, 'stock count {id}: {detail}'),
  LG_ERR_CHECK_QC_FAILED: e(409, 'batch {batch}: the newest in-process inspection {inspection} of plan {plan} failed — retake it (retakeOf) before release'),
  LG_ERR_DEVIATION_OPEN: e(409, 'batch {batch} has {count} deviation(s) not closed ({numbers}); close them (QA signature) before release'),
  LG_ERR_DEVIATION_INVALID_TRANSITION: e(409, 'deviation {number} cannot go from {from} to {to}'),
  // ── quality (QC inspections) ────────────────────────────────────────────────
  LG_ERR_QC_PLAN_NOT_FOUND: e(404, 'inspection plan {plan} not found'),
  LG_ERR_QC_PLAN_INVALID: e(400, 'inspection plan {plan} is not valid: {detail}'),
  LG_ERR_QC_RESULT_INVALID: e(400, 'QC result for characteristic {code} is not valid: {detail}'),
  LG_ERR_QC_UNIT: e(400, 'characteristic {code} is measured in {expected}, not {unit}'),
  LG_ERR_QC_REQUIRED: e(409, 'lot {lot} cannot leave quarantine without a passed receiving inspection ({plan}): {detail}'),
  LG_ERR_QC_NOT_FOUND: e(404, 'QC inspection {id} not found'),
  LG_ERR_QC_ALREADY_APPROVED: e(409, 'QC inspection {id} is already approved'),
  LG_ERR_SIGNATURE_BROKEN: e(409, 'signature {id} of {entity} {entityId} no longer matches what was signed: {detail}'),
  LG_ERR_MATERIAL_NOT_FOUND: e(404, 'material {material} not found'),
  LG_ERR_LOT_NOT_FOUND: e(404, 'lot {lot} not found'),
  LG_ERR_LOT_INVALID_STATUS: e(409, 'lot {lot} cannot go from {from} to {to}'),
  LG_ERR_UNIT_MISMATCH: e(400, 'unit {unit} does not match {expected} for {entity}'),
  LG_ERR_STATION_NOT_FOUND: e(404, 'station {station} is not configured'),
  LG_ERR_USER_NOT_FOUND: e(404, 'user {user} not found'),
  LG_ERR_RECORD_NOT_FOUND: e(404, 'record {id} not found'),

  // ── batch completion / release checks (issue 10.6) ──────────────────────────
  LG_ERR_BATCH_CHECKS_FAILED: e(409, 'batch {batch} cannot move to {to}: {count} check(s) failed — see details.missing, or GET /batches/{batch}/checks'),
  LG_ERR_CHECK_BOM_UNDER: e(409, 'material {material}: {consumed} {unit} consumed, below the minimum {min} of the bill of materials ({planned} ± {tolerancePct} %)'),
  LG_ERR_CHECK_BOM_OVER: e(409, 'material {material}: {consumed} {unit} consumed, above the maximum {max} of the bill of materials ({planned} ± {tolerancePct} %)'),
  LG_ERR_CHECK_NOTHING_PRODUCED: e(409, 'batch {batch}: no good quantity produced — the machine counted none; a supervisor can enter it (POST /batches/{batch}/production)'),
  LG_ERR_CHECK_PRODUCTION_SOURCES: e(409, 'batch {batch}: the produced quantity has both machine counts and a supervisor entry ({entries}) — it may be counted twice; correct it before completion'),
  LG_ERR_CHECK_PRINT_JOBS_OPEN: e(409, 'batch {batch}: {count} label job(s) not finished ({states}) — let them print, or decide, reprint or cancel them'),
  LG_ERR_CHECK_OVERRIDE_UNREVIEWED: e(409, 'override {override} of lot {lot} ({overriddenCode}) has not been reviewed by QA (POST /batches/{batch}/overrides/{override}/review)'),
  LG_ERR_PRODUCTION_ALREADY_RECORDED: e(409, 'batch {batch} already has a produced quantity ({detail}); entering it again would count it twice'),
  LG_ERR_OVERRIDE_REVIEW_INVALID: e(409, 'override {id} cannot be reviewed: {detail}'),

  // ── reading rejections (become rejected records) ────────────────────────────
  LG_ERR_NO_ACTIVE_BATCH: e(422, 'station {station} has no active batch — scan or select the batch first'),
  LG_ERR_NO_ACTIVE_LOT: e(422, 'station {station} has no active lot{forMaterial} — scan the material lot first'),
  LG_ERR_NO_OPERATOR: e(422, 'nobody is signed in at station {station} — scan your badge first'),
  LG_ERR_SCAN_UNPARSEABLE: e(422, 'the scan could not be read: {detail}'),
  LG_ERR_SCAN_UNRECOGNISED: e(422, 'the scan {text} is not a lot, batch, badge or command known here'),
  LG_ERR_SCAN_DUPLICATE: e(422, 'the same code was scanned twice within {windowMs} ms; counted once'),
  LG_ERR_SCAN_TOO_LONG: e(422, 'the scan is {length} bytes, over the limit of {max}; check the scanner suffix setting'),
  LG_ERR_SCAN_CONTROL_CHARS: e(422, 'the scan contains control characters ({detail}); check the scanner configuration'),
  LG_ERR_GS1_INVALID: e(422, 'the GS1 data is invalid: {detail}'),
  LG_ERR_GS1_CHECK_DIGIT: e(422, 'check digit of AI ({ai}) {value} is wrong'),
  LG_ERR_GS1_DATE: e(422, 'AI ({ai}) {value} is not a valid date'),
  // issue 10.17 (scanning): valid GS1 data that lacks what the station needs
  LG_ERR_GS1_KEY_MISSING: e(422, 'the GS1 code carries {ais} but no GTIN (01/02) or SSCC (00) — scan the code on the label that carries the GTIN or SSCC'),
  LG_ERR_GS1_LOT_MISSING: e(422, 'the GS1 code of GTIN {gtin} ({material}) carries no batch/lot (AI 10), only {ais} — scan the code on the label that shows the lot, or scan the internal lot label'),
  LG_ERR_UNKNOWN_GTIN: e(422, 'GTIN {gtin} is not assigned to any material'),
  LG_ERR_UNKNOWN_LOT: e(422, 'lot {lot} of {material} is unknown — receive it in the ERP first'),
  LG_ERR_UNKNOWN_BADGE: e(422, 'badge {badge} is not assigned to any user'),
  LG_ERR_MATERIAL_NOT_IN_BOM: e(422, 'material {material} is not on the bill of materials of batch {batch} — do not add it'),
  LG_ERR_LOT_EXPIRED: e(422, 'lot {lot} expired on {expiry} — do not use it'),
  LG_ERR_LOT_ON_HOLD: e(422, 'lot {lot} is on hold — do not use it; ask QA'),
  LG_ERR_LOT_QUARANTINED: e(422, 'lot {lot} is in quarantine and not yet released by QA — do not use it'),
  LG_ERR_LOT_REJECTED: e(422, 'lot {lot} was rejected by QA — do not use it'),
  LG_ERR_LOT_DEPLETED: e(422, 'lot {lot} is depleted — check the label'),
  LG_ERR_OVERRIDE_INVALID: e(409, 'record {id} cannot be overridden: {detail}'),
  LG_ERR_READING_INVALID: e(422, 'the reading from {device} is invalid: {detail}'),

  // ── consumption and override integrity (issue 10.1, 10.2) ───────────────────
  LG_ERR_QUANTITY_NOT_POSITIVE: e(422, 'quantity {value} must be greater than zero — a wrong consumption is corrected with POST /records/<id>/correction, never with a negative entry'),
  LG_ERR_CORRECTION_INVALID: e(409, 'record {id} cannot be corrected: {detail}'),
  LG_ERR_CORRECTION_TOO_LARGE: e(409, 'a correction of {quantity} is more than the {consumed} that record {id} consumed'),
  LG_ERR_ALREADY_CORRECTED: e(409, 'record {id} was already corrected by record {by}; a consumption is corrected once'),

  // ── weights (scales issue) ──────────────────────────────────────────────────
  LG_ERR_WEIGHT_PAYLOAD: e(422, 'scale {device}: payload not understood: {detail}'),
  LG_ERR_WEIGHT_UNIT: e(422, 'scale {device}: unit {unit} is not supported'),
  LG_ERR_WEIGHT_NEGATIVE: e(422, 'scale {device}: negative weight {value} — re-tare the scale'),
  LG_ERR_WEIGHT_OVERLOAD: e(422, 'scale {device}: overload ({value}) — remove weight'),
  LG_ERR_WEIGHT_UNDERLOAD: e(422, 'scale {device}: underload ({value}) — check the platform'),
  LG_ERR_WEIGHT_OUT_OF_RANGE: e(422, 'scale {device}: {value} is outside {min}…{max}'),
  LG_ERR_WEIGHT_OUT_OF_TOLERANCE: e(422, 'addition of {value} for {material} is outside {min}…{max} of the bill of materials'),
  LG_ERR_SCALE_SILENT: e(503, 'scale {device}: no message for {ms} ms on {topic} — check the scale and its MQTT bridge', true),

  // ── machines (OPC UA issue) ─────────────────────────────────────────────────
  LG_ERR_OPCUA_CERT_UNTRUSTED: e(502, 'OPC UA server {endpoint} presented an untrusted certificate {thumbprint} — check it and trust it with `linegate opcua trust`'),
  LG_ERR_OPCUA_NODE_INVALID: e(422, 'OPC UA node {nodeId} ({field}) does not exist or cannot be read: {detail}'),
  LG_ERR_OPCUA_CONNECT_FAILED: e(502, 'OPC UA server {endpoint} unreachable: {detail}', true),
  // ── process values (issue 18) ─────────────────────────────────────────────
  LG_ERR_VALUE_NOT_NUMERIC: e(422, 'process value {device}/{name}: {detail} — not a number; check the sensor payload or the value path in the device config'),
  LG_ERR_VALUE_BAD_QUALITY: e(422, 'process value {device}/{name}: the source marked the value bad ({quality}) — check the sensor'),
  LG_ERR_VALUE_OUT_OF_RANGE: e(422, 'process value {device}/{name}: {value} {unit} is outside the declared range {min}…{max} — check the sensor or the declared range'),
  LG_ERR_VALUE_SOURCE_UNKNOWN: e(422, 'process value {device}/{name}: {detail} — the node or topic does not exist on the server; fix `values` in the device config'),
  LG_ERR_MACHINE_STATE_UNKNOWN: e(422, 'machine {device} reported an unknown PackML state {value}'),
  LG_ERR_OPCUA_CERT_NOT_FOUND: e(404, 'no OPC UA certificate matches {thumbprint}: {detail}'),
  LG_ERR_OPCUA_LINK_LOST: e(502, 'OPC UA server {endpoint}: connection lost ({detail}); reconnecting', true),

  // ── machine counters and scale payloads (issue 10.3–10.5) ───────────────────
  LG_ERR_COUNTER_DISCONTINUITY: e(422, 'machine {device}: counter {field} jumped {previous} → {value} (+{delta}, at most {maxDelta} is plausible) — not booked as production; a PLC preset or glitch'),
  LG_ERR_CLOCK_STEPPED: e(422, 'the system clock stepped {direction} by {delta} ({before} → {after}); records of the next {holdMinutes} min are flagged clock_synced = false — check the time source (NTP)'),
  LG_ERR_WEIGHT_UNIT_MISSING: e(422, 'scale {device}: the payload carries no unit and the profile declares no payloadUnit'),
  LG_ERR_WEIGHT_STABILITY_UNKNOWN: e(422, 'scale {device}: the payload has no stable flag and no software stability is configured'),
  LG_ERR_WEIGHT_BELOW_ZERO: e(422, 'scale {device}: the empty platform reads below zero ({value}) — zero the scale'),

  // ── devices (generic) ───────────────────────────────────────────────────────
  LG_ERR_DEVICE_OPEN_FAILED: e(502, '{kind} {device}: {path} could not be opened ({detail}) — check the cable or the udev rule', true),
  LG_ERR_DEVICE_DISCONNECTED: e(502, '{kind} {device}: disconnected ({detail}); reconnecting', true),
  LG_ERR_DEVICE_UNKNOWN_KIND: e(500, 'device {device}: unknown kind {kind}'),
  LG_ERR_DEVICE_PROFILE: e(500, 'device {device}: profile {profile} is invalid or missing: {detail}'),
  // issue 10.9 / 10.12 (config-serial)
  LG_ERR_SCAN_QUEUED_BEFORE_START: e(422, 'scanner {device}: {length} bytes were already waiting on the port when linegate opened it for the first time; their age is unknown, so they are not used — scan again'),

  // ── labels and printers (labels issue) ──────────────────────────────────────
  LG_ERR_LABEL_FIELD_TOO_LONG: e(422, 'label field {field} is {length} bytes, over {max}'),
  LG_ERR_LABEL_TEMPLATE: e(500, 'label template {template}: {detail}'),
  LG_ERR_LABEL_BARCODE_TOO_WIDE: e(422, 'barcode of {width} dots does not fit the label width {max}'),
  LG_ERR_PRINTER_OFFLINE: e(503, 'printer {printer} does not answer — check power and network', true),
  LG_ERR_PRINTER_PAPER_OUT: e(503, 'printer {printer} is out of paper — load labels', true),
  LG_ERR_PRINTER_RIBBON_OUT: e(503, 'printer {printer} is out of ribbon — load ribbon', true),
  LG_ERR_PRINTER_HEAD_OPEN: e(503, 'printer {printer} head is open — close it', true),
  LG_ERR_PRINTER_PAUSED: e(503, 'printer {printer} is paused — press pause on the printer', true),
  LG_ERR_PRINTER_BUFFER_FULL: e(503, 'printer {printer} buffer is full; waiting', true),
  LG_ERR_PRINT_JOB_NOT_FOUND: e(404, 'print job {job} not found'),
  LG_ERR_PRINT_JOB_STATE: e(409, 'print job {job} is {state}; {action} is not possible'),
  LG_ERR_LABEL_FIELD_MISSING: e(422, 'label template {template} needs field {field}'),
  LG_ERR_LABEL_FIELD_INVALID: e(422, 'label field {field}: {detail}'),
  LG_ERR_LABEL_SERIAL_EXHAUSTED: e(500, 'counter {counter} has no numbers left ({max}) — a new company prefix or extension digit is needed'),
  LG_ERR_PRINTER_NOT_FOUND: e(404, 'printer {printer} is not configured'),
  LG_ERR_PRINTER_CONNECTION_LOST: e(502, 'printer {printer}: connection lost after {bytes} bytes of job {job} went out — check the printer and confirm printed or reprint', true),

  // ── upstream (upstream issue) ───────────────────────────────────────────────
  LG_ERR_SINK_UNREACHABLE: e(502, 'sink {sink}: {detail}', true),
  LG_ERR_SINK_REFUSED: e(502, 'sink {sink} refused record {id} with {status}: {detail}'),
  LG_ERR_SINK_NOT_FOUND: e(404, 'sink {sink} is not configured'),

  // ── security (issue 11) ─────────────────────────────────────────────────────
  LG_ERR_LAST_ADMIN: e(409, 'user {user} is the last active admin: {detail} — make another user admin first'),
  LG_ERR_AUTH_LIMITED: e(429, 'too many failed authentications from {source}; try again in {retryAfter} s'),
  LG_ERR_METHOD_NOT_ALLOWED: e(405, '{method} is not allowed on {url}; allowed: {allow}'),
  LG_ERR_BAD_URL: e(400, 'the request URL is malformed: {url}'),
  LG_ERR_JSON_TOO_DEEP: e(400, 'the request body nests deeper than {max} levels'),
  LG_ERR_API_PORT_IN_USE: e(500, 'the API address {host}:{port} is already in use — stop the other process (another linegate?) or change api.port'),
  LG_ERR_METRICS_PORT_IN_USE: e(500, 'the metrics address {host}:{port} is already in use — stop the other process (another linegate?) or change ops.metrics.port'),
  // ── station pages and kiosk panels (station pages issue) ────────────────────
  LG_ERR_KIOSK_PAIRING_INVALID: e(403, 'the pairing code is unknown, used or expired — ask an admin for a new one'),
  LG_ERR_KIOSK_NOT_FOUND: e(404, 'kiosk {kiosk} is not paired'),
  LG_ERR_KIOSK_WRONG_STATION: e(403, 'this panel is paired with station {paired}, not {station} — open its own station page or pair it again'),
  LG_ERR_SUPERVISOR_PIN_INVALID: e(403, 'the supervisor badge or PIN is not valid — scan the badge and enter the PIN again'),
  // ── supervisor and QA pages (issue 14) ─────────────────────────────────────
  LG_ERR_SESSION_EXPIRED: e(401, 'your sign-in to the supervisor/QA pages ended ({reason}) — sign in again with your user id and signing secret'),
  // ── plant store and plant namespace (issue 16) ─────────────────────────────
  LG_ERR_PLANT_SCHEMA_NEWER: e(500, 'plant schema {schema} is at version {version}, newer than this linegate knows ({known}): upgrade linegate on this gateway'),
  LG_ERR_PLANT_STORE_UNREACHABLE: e(503, 'the plant database cannot be reached: {detail}', true),
  // ── operations: backup, restore, metrics (issue 17) ─────────────────────────
  LG_ERR_BACKUP_FAILED: e(500, 'backup to {file} failed: {detail} — check free space and permissions of the target folder', true),
  LG_ERR_BACKUP_INVALID: e(500, 'backup {file} is not a usable journal: {detail} — take another backup; do not restore this one'),
  LG_ERR_RESTORE_RUNNING: e(409, 'linegate is running on {stateDir} (pid {pid}) — stop it (systemctl stop linegate) before restoring'),
  // ── reports (batch record report, weekly review: issue 14) ──────────────────
  LG_ERR_REPORT_MISMATCH: e(409, 'report of batch {batch}: the copy says content SHA-256 {expected}, the journal gives {actual}'),
  LG_ERR_REPORT_STAMP_MISSING: e(422, 'no linegate report stamp found in {file}'),
  LG_ERR_REPORT_RANGE: e(422, 'report period {from} – {to}: {detail}'),
  LG_ERR_WEEKLY_REVIEW_NOT_FOUND: e(404, 'weekly review {id} not found'),
  LG_ERR_WEEKLY_REVIEW_SIGNED: e(409, 'weekly review {id} is already signed ({meaning}) by {by} at {at}: freeze a new review of the period to sign again'),
  LG_ERR_WEEKLY_REVIEW_CHANGED: e(409, 'weekly review {id}: {detail} — the content was changed after it was frozen; it cannot be signed'),

  // ── handling units and dispatch (issue 15) ──────────────────────────────────
  LG_ERR_HU_CASE_UNKNOWN: e(404, 'case serial {serial} (GTIN {gtin}) has no case label issued by this gateway — label the case first'),
  LG_ERR_HU_CASE_ON_PALLET: e(409, 'case {serial} is already on pallet {pallet} — unpack it there first'),
  LG_ERR_HU_PALLET_MIXED: e(409, 'case {serial} ({gtin}, batch {batch}) does not match pallet {pallet} ({palletGtin}, batch {palletBatch}) — one GTIN and batch per pallet; close it first'),
  LG_ERR_HU_NO_OPEN_PALLET: e(409, 'no pallet is open at station {station}'),
  LG_ERR_HU_PALLET_EMPTY: e(409, 'pallet {pallet} holds no case; pack at least one before closing it'),
  LG_ERR_HU_PALLET_NOT_FOUND: e(404, 'no pallet with SSCC {sscc} is known to this gateway'),
  LG_ERR_HU_PALLET_STATE: e(409, 'pallet {sscc} is {status}: {detail}'),
  LG_ERR_HU_ON_HOLD: e(409, 'pallet {sscc} is on hold ({reason}) — QA must release it before it ships'),
  LG_ERR_CUSTOMER_NOT_FOUND: e(404, 'customer {customer} is not known — push the customer before its deliveries'),
  LG_ERR_DELIVERY_NOT_FOUND: e(404, 'delivery {delivery} not found'),
  LG_ERR_DELIVERY_NOT_SELECTED: e(409, 'no delivery is selected at station {station} — scan the delivery number first'),
  LG_ERR_DELIVERY_WRONG: e(409, 'pallet {sscc} does not belong on delivery {delivery}: {detail}'),
  LG_ERR_DELIVERY_STATE: e(409, 'delivery {delivery} is {status}: {detail}'),
  LG_ERR_DELIVERY_BATCH_NOT_RELEASED: e(409, 'pallet {sscc} holds batch {batch}, which is {status}; only released batches ship'),
  LG_ERR_DELIVERY_SHIPMENT_CONFLICT: e(409, 'the shipment pushed for delivery {delivery} contradicts the recorded one: {detail}'),
  LG_ERR_HU_CASE_ON_HOLD: e(409, 'case {serial} of batch {batch} is on hold ({reason}) — set it aside; QA decides what happens to it'),
  // ── recall (issue 15) ──────────────────────────────────────────────────────
  LG_ERR_RECALL_NOTHING_FOUND: e(404, 'a recall of {scope} finds nothing: no lot, batch or handling unit of it is known to this gateway — check the lot or batch number (and the supplier)'),
  LG_ERR_RECALL_ALREADY_OPEN: e(409, 'recall {recall} of {scope} is already open — work on that one, or close it before starting another'),
  LG_ERR_RECALL_NOT_FOUND: e(404, 'recall {recall} not found'),
  LG_ERR_RECALL_STATE: e(409, 'recall {recall} is {status}: {detail}'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERRORS, code);
}

/** Fill `{key}` placeholders; missing keys stay visible rather than vanish. */
export function formatMessage(code: ErrorCode, details: Record<string, unknown> = {}): string {
  return ERRORS[code].message.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const v = details[key];
    if (v === undefined || v === null) return key === 'forMaterial' ? '' : whole;
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
}

/** A thrown error carrying a stable code. */
export class LgError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(formatMessage(code, details), options);
    this.name = 'LgError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return ERRORS[this.code].status;
  }
  get retryable(): boolean {
    return ERRORS[this.code].retryable;
  }
  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** A rejection as a value: what a rejected record carries. */
export interface Rejection {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
}

export function rejection(code: ErrorCode, details: Record<string, unknown> = {}): Rejection {
  return { code, message: formatMessage(code, details), details };
}

export function isLgError(err: unknown): err is LgError {
  return err instanceof LgError;
}
