import { isKioskRoute, isPublicRoute } from './auth.js';
import { ErrorBody } from './schemas.js';

/**
 * The OpenAPI document, completed centrally (issue 17): every operation gets a summary, an
 * operationId, the roles that may call it (`x-roles` and a sentence in its description), every
 * 4xx/5xx answer it can give with the error schema, and event streams their SSE content type.
 *
 * Decision: this runs as @fastify/swagger's `transform` (called for every route when the document
 * is built), not by rewriting `routeOptions.schema` in an onRoute hook. The route's schema is also
 * what fastify serialises replies with: adding, say, a 503 error schema to `/health/ready` (whose
 * 503 is the health body) would make fastify throw on a valid reply. The transform changes the
 * document only, and, like an onRoute hook, sees every route — including ones added later by other
 * modules or `deps.extensions` — with its `config.roles`, so a new route is documented correctly
 * without touching this file. A route may still set `summary`, `operationId` or its own error
 * responses; those win.
 *
 * Event streams: a route that answers Server-Sent Events declares `produces: ['text/event-stream']`
 * in its schema (the swagger convention); it is documented with that content type. Likewise any
 * other non-JSON answer without a response schema (`produces: ['application/x-ndjson']`).
 */

const METHOD_VERBS: Record<string, string> = { GET: 'get', POST: 'post', PUT: 'put', PATCH: 'patch', DELETE: 'delete', OPTIONS: 'options', HEAD: 'head' };

/** What each error status means here (the body is always `{code, message, details}`). */
const ERROR_STATUS: Record<string, string> = {
  '400': 'Invalid request: validation (`LG_ERR_VALIDATION`, `details.errors`), malformed JSON or URL, JSON nested too deep, or a domain rule refused it.',
  '401': 'No token (`LG_ERR_AUTH_REQUIRED`), or an unknown, disabled or malformed one (`LG_ERR_AUTH_INVALID`).',
  '403': "The token's role may not call this operation (`LG_ERR_FORBIDDEN`).",
  '404': 'The thing named in the path does not exist.',
  '409': 'Conflicts with the current state (status, checks, duplicates).',
  '413': 'Body larger than `api.bodyLimit` (`LG_ERR_BODY_TOO_LARGE`).',
  '415': 'Body is not `application/json` (`LG_ERR_UNSUPPORTED_MEDIA_TYPE`).',
  '422': 'Well-formed but not acceptable for this operation.',
  '429': 'Too many failed authentications from this address (`LG_ERR_AUTH_LIMITED`); see `Retry-After`.',
  '500': 'Internal error (`LG_ERR_INTERNAL`); the log has the details.',
  '503': 'Not ready or stopping (`LG_ERR_NOT_READY`).',
};

// The schema without its $id: inlined per response in the document (as fastify-swagger does for the routes' own).
const { $id: _errorId, ...errorSchema } = ErrorBody as typeof ErrorBody & { $id?: string };

interface RouteLike {
  method: string | string[];
  url: string;
  config?: { roles?: readonly string[] } & Record<string, unknown>;
}

type Schema = Record<string, unknown> & {
  summary?: string;
  description?: string;
  operationId?: string;
  hide?: boolean;
  body?: unknown;
  params?: unknown;
  produces?: string[];
  response?: Record<string, unknown>;
};

/** @fastify/swagger `transform`: the route's schema as the document should show it. */
export function openapiTransform({ schema, url, route }: { schema?: unknown; url: string; route: RouteLike }): { schema: Schema; url: string } {
  const s: Schema = { ...((schema as Schema | undefined) ?? {}) };
  if (s.hide) return { schema: s, url };
  const method = ([] as string[]).concat(route.method).find((m) => m !== 'HEAD') ?? 'GET';
  const kiosk = isKioskRoute(route.url ?? url, route.config as { kiosk?: boolean });
  // Kiosk routes are for a paired station panel only (its kiosk credential, not a user token).
  const roles = kiosk ? ['kiosk'] : [...(route.config?.roles ?? [])];
  const pub = isPublicRoute(method, url);

  s.operationId ??= operationIdOf(method, url);
  s.summary ??= SUMMARIES[`${method} ${url}`] ?? firstSentence(s.description) ?? derivedSummary(method, url);
  s['x-roles'] = pub ? [] : roles;
  s['x-public'] = pub;
  const who = pub
    ? 'Public: no token needed (a token that is sent is still checked).'
    : kiosk
      ? 'Roles allowed: kiosk. Only the credential of the station panel paired with this station, never a user token.'
      : roles.length
        ? `Roles allowed: ${roles.join(', ')}.`
      : 'Refused to everybody: the route declares no roles and is not public.';
  s.description = s.description ? `${s.description}\n\n${who}` : who;

  const response: Record<string, unknown> = { ...(s.response ?? {}) };
  if ((s.produces ?? []).includes('text/event-stream')) {
    response['200'] = {
      description: 'An event stream (Server-Sent Events, text/event-stream): `event: <name>` and `data: <JSON>` per event, a `: keep-alive` comment every 15 s.',
      content: { 'text/event-stream': { schema: { type: 'string' } } },
    };
  }
  if (!Object.keys(response).some((c) => /^2/.test(c))) {
    // No 2xx declared: JSON, or the media types the route declares it produces (e.g. NDJSON), as text.
    response['200'] = s.produces?.length
      ? { description: 'Success', content: Object.fromEntries(s.produces.map((t) => [t, { schema: { type: 'string' } }])) }
      : { description: 'Success', type: 'object', additionalProperties: true };
  }
  const codes = ['400', '401', '429', '500', '503'];
  if (!pub) codes.push('403');
  if (/\/:/.test(url)) codes.push('404');
  if (s.body !== undefined || ['POST', 'PUT', 'PATCH'].includes(method)) codes.push('413', '415');
  for (const code of Object.keys(response)) if (/^[45]/.test(code) && !codes.includes(code)) codes.push(code);
  for (const code of codes) {
    const given = response[code] as { $id?: string; description?: string } | undefined;
    // Our own error schema (or none): the standard answer with a description of what it means here.
    if (given === undefined || given === ErrorBody || given.$id === 'Error') {
      // With explicit content: `produces` (an event stream's) must not make an error body text/event-stream.
      response[code] = { description: ERROR_STATUS[code] ?? 'Error', content: { 'application/json': { schema: errorSchema } } };
    }
  }
  s.response = Object.fromEntries(Object.entries(response).sort(([a], [b]) => a.localeCompare(b)));
  return { schema: s, url };
}

/** @fastify/swagger `transformObject`: checks over the whole document. */
export function openapiFinish({ openapiObject }: { openapiObject: Record<string, unknown> }): Record<string, unknown> {
  const seen = new Set<string>();
  for (const item of Object.values((openapiObject.paths ?? {}) as Record<string, Record<string, { operationId?: string }>>)) {
    for (const op of Object.values(item)) {
      if (!op || typeof op !== 'object' || !op.operationId) continue;
      // Unique by construction (method + path); a route that sets a colliding id gets a suffix, never a duplicate.
      let id = op.operationId;
      for (let i = 2; seen.has(id); i++) id = `${op.operationId}${i}`;
      op.operationId = id;
      seen.add(id);
    }
  }
  return openapiObject;
}

/** `GET /batches/:number/checks` → `getBatchesByNumberChecks`. Stable: clients generated from it keep their names. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .split('/')
    .filter(Boolean)
    .map((seg) => (seg.startsWith(':') ? `by-${seg.slice(1)}` : seg === '*' ? 'wildcard' : seg))
    .join('-')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return (METHOD_VERBS[method] ?? method.toLowerCase()) + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

/** The first sentence of a description, when it is short enough to be a summary. */
function firstSentence(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = /^(.+?[.!?])(\s|$)/s.exec(text);
  const first = (m ? m[1]! : text).replace(/\.$/, '').replace(/\s+/g, ' ').trim();
  return first.length > 0 && first.length <= 120 ? first : undefined;
}

/**
 * Summaries of today's routes that give neither summary nor a short description. A route added
 * later gets one from its description or its path (derivedSummary); setting `schema.summary` on
 * the route is better still.
 */
const SUMMARIES: Record<string, string> = {
  'GET /health/live': 'Liveness: the process answers',
  'GET /health/ready': 'Readiness: ready or degraded, and each subsystem',
  'POST /batches': 'Create a batch (numbered from numbering.batch)',
  'POST /batches/:number/transitions': "Change a batch's status (start, hold, resume, complete, release, reject)",
  'GET /batches/:number/checks': 'Completion or release checks of a batch, read-only',
  'POST /batches/:number/production': 'Enter the produced quantity where no machine counts',
  'POST /lots': 'Register a lot',
  'GET /audit': 'Audit trail entries, filtered',
  'GET /audit/verify': 'Verify the audit chain',
  'GET /me': 'The calling user',
  'PATCH /users/:id': 'Change a user (never the last active admin away)',
  'POST /stations/:id/consumptions': 'Enter a consumption by hand, bound like a weighing',
  'POST /records/:id/correction': 'Correct a wrong consumption, all or part of it, once',
  'GET /upstream/sinks': 'Upstream sinks and their delivery state',
  'GET /upstream/sinks/:sink/quarantine': 'Records a sink quarantined, with the answer',
  'GET /upstream/sinks/:sink/quarantine/export': "Export a sink's quarantine as NDJSON",
  'GET /opcua/certificates': 'OPC UA server certificates, trusted and rejected',
  'POST /opcua/certificates/trust': 'Trust a rejected OPC UA server certificate',
  'POST /print-jobs/:id/cancel': 'Cancel a print job, with a reason',
};

/** A plain summary from method and path, for routes that give neither summary nor description. */
export function derivedSummary(method: string, url: string): string {
  const segs = url.split('/').filter(Boolean);
  const words = (s: string) => s.replace(/[-_]/g, ' ');
  const singular = (s: string) => words(s).replace(/ies$/, 'y').replace(/(ch|sh|x|ss)es$/, '$1').replace(/s$/, '');
  const last = segs[segs.length - 1] ?? '';
  if (last.startsWith(':')) {
    const noun = singular(segs[segs.length - 2] ?? 'item');
    const verb = { GET: 'Get', PUT: 'Create or replace', PATCH: 'Update', DELETE: 'Delete', POST: 'Post to' }[method] ?? method;
    return `${verb} one ${noun}`;
  }
  const prev = segs[segs.length - 2];
  const of = prev?.startsWith(':') ? ` of a ${singular(segs[segs.length - 3] ?? '')}` : prev ? ` (${segs.slice(0, -1).map(words).join(' ')})` : '';
  if (method === 'POST' && !prev) return `Create a ${singular(last)}`;
  const verb = { GET: 'Get', PUT: 'Set', PATCH: 'Update', DELETE: 'Delete', POST: 'Post' }[method] ?? method;
  return `${verb} ${words(last)}${of}`;
}
