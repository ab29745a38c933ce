/**
 * The batch record report as a list of blocks (headings, key/value lists, tables, the state strip),
 * built once from ReportData and drawn by both renderers (html.ts, pdf.ts), so the printed PDF and
 * the HTML page always say the same thing.
 */
import type { ReportData } from './data.js';
import { SECTION_TITLES, duration, timeFormatter, zoneLabel, type ReportStamp } from './format.js';

export type Block =
  | { kind: 'h'; text: string }
  | { kind: 'kv'; rows: Array<[string, string]> }
  | { kind: 'table'; cols: Array<{ title: string; width: number }>; rows: string[][]; empty: string }
  | { kind: 'strip' }
  /** A label picture (rendered from the job's stored ZPL; not part of the hashed content). */
  | { kind: 'image'; job: string; caption: string }
  | { kind: 'p'; text: string };

export interface ReportDocument {
  title: string;
  subtitle: string;
  /** Printed in every page footer. */
  footer: string;
  footerHash: string;
  blocks: Block[];
  timeZone: string;
  /** Where the state strip ends when a segment is still open. */
  stripEnd: string;
}

const s = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

export function buildDocument(d: ReportData, stamp: ReportStamp): ReportDocument {
  const x = d.sections;
  const tz = x.config.site.timezone;
  const t = timeFormatter(tz);
  const h = x.header;
  const blocks: Block[] = [];
  const table = (cols: Array<[string, number]>, rows: unknown[][], empty: string): void => {
    blocks.push({ kind: 'table', cols: cols.map(([title, width]) => ({ title, width })), rows: rows.map((r) => r.map(s)), empty });
  };

  blocks.push({ kind: 'h', text: SECTION_TITLES.header! });
  blocks.push({
    kind: 'kv',
    rows: [
      ['Batch number', s(h.number)],
      ['Product', `${s(h.product)}${h.productName ? ` — ${s(h.productName)}` : ''}`],
      ['GTIN', s(h.gtin)],
      ['Planned quantity', `${s(h.plannedQty)} ${s(h.unit)}`],
      ['Site / line', `${x.config.site.id}${x.config.site.name ? ` (${x.config.site.name})` : ''} / ${x.config.line.id}${x.config.line.name ? ` (${x.config.line.name})` : ''}`],
      ['Work order', s(h.workOrder)],
      ['Status', `${s(h.status)}${h.heldFrom ? ` (held from ${s(h.heldFrom)})` : ''}`],
      ['Planned start', t(h.plannedStart) || 'not planned'],
      ['Planned end', 'not planned (work orders carry no planned end)'],
      ['Actual start', t(h.startedAt) || 'not started'],
      ['Actual end (completed)', t(h.completedAt) || 'not completed'],
      ['Released', t(h.releasedAt)],
      ['Produced / rejected', `${s(h.producedQty)} / ${s(h.rejectedQty)} ${s(h.unit)}`],
      ['Records', `${s(h.recordCount)} (${s(h.rejectedCount)} refused or flagged)`],
      ['Time zone', `all times ${zoneLabel(tz, new Date(stamp.generatedAt))}`],
    ],
  });
  const hist = (h.statusHistory as Array<Record<string, unknown>>) ?? [];
  if (hist.length) table([['Time', 18], ['From', 14], ['To', 14], ['By', 14], ['Reason', 40]], hist.map((r) => [t(r.at), r.from, r.to, r.by, r.reason]), '');

  blocks.push({ kind: 'h', text: SECTION_TITLES.personnel! });
  table([['User', 14], ['Printed name', 24], ['Role', 12], ['Activities', 50]], x.personnel.map((p) => [p.id, p.name, p.role, p.activities.join(', ')]), 'No personnel recorded.');

  blocks.push({ kind: 'h', text: SECTION_TITLES.equipment! });
  table([['Device', 24], ['Kind', 18], ['Station', 14], ['Profile', 30], ['Enabled', 10]], x.config.equipment.map((e) => [e.id, e.kind, e.station, e.profile, e.enabled ? 'yes' : 'no']), 'No devices configured.');
  if (x.config.source === 'journal') blocks.push({ kind: 'p', text: 'Made without the gateway configuration: devices are those seen in the batch records; profiles unknown; times in UTC.' });

  blocks.push({ kind: 'h', text: SECTION_TITLES.materials! });
  for (const m of x.materials) {
    const consumed = m.consumptions.filter((c) => c.correctedBy === null);
    blocks.push({ kind: 'p', text: `${m.material}${m.name ? ` ${m.name}` : ''}: target ${m.target} ${m.unit} ± ${m.tolerancePct} %, ${consumed.length} consumption${consumed.length === 1 ? '' : 's'}` });
    table(
      [['Lot', 13], ['Supplier lot', 12], ['Supplier', 10], ['Expiry', 10], ['Quantity', 11], ['Scale/device', 13], ['Operator', 10], ['Time', 17], ['Note', 8]],
      m.consumptions.map((c) => [c.lot, c.supplierLot, c.supplier, c.expiry, `${c.quantity} ${c.unit}`, c.device ?? c.station, c.operator, t(c.at), c.correctedBy !== null ? `corrected by #${c.correctedBy}` : '']),
      'Nothing consumed.',
    );
  }
  if (x.materials.length === 0) blocks.push({ kind: 'p', text: 'The batch has no bill of materials.' });
  if (x.offBom.length) {
    blocks.push({ kind: 'p', text: 'Consumed outside the bill of materials (overrides):' });
    table([['Lot', 16], ['Quantity', 14], ['Device', 16], ['Operator', 14], ['Time', 18]], x.offBom.map((c) => [c.lot, `${c.quantity} ${c.unit}`, c.device ?? c.station, c.operator, t(c.at)]), '');
  }

  blocks.push({ kind: 'h', text: SECTION_TITLES.corrections! });
  table([['Record', 8], ['Corrects', 8], ['Lot', 14], ['Material', 12], ['Quantity', 12], ['By', 12], ['Time', 17], ['Reason', 30]], x.corrections.map((c) => [`#${s(c.recordSeq)}`, `#${s(c.correctsSeq)}`, c.lot, c.material, `${s(c.quantity)} ${s(c.unit)}`, c.by, t(c.at), c.reason]), 'No corrections.');

  blocks.push({ kind: 'h', text: SECTION_TITLES.machine! });
  if (x.machine.segments.length) {
    blocks.push({ kind: 'strip' });
    const ms = Object.entries(x.machine.msInState).sort((a, b) => b[1] - a[1]);
    blocks.push({ kind: 'p', text: `Time in state: ${ms.map(([k, v]) => `${k} ${duration(v)}`).join(', ') || 'none closed'}; link gaps: ${x.machine.linkGaps}.` });
    table([['Device', 16], ['State', 16], ['From', 20], ['To', 20], ['Duration', 14]], x.machine.segments.map((g) => [g.device, g.gap ? 'no link (gap)' : g.state, t(g.from), g.to ? t(g.to) : 'open', g.to ? duration(Date.parse(g.to) - Date.parse(g.from)) : '']), '');
  } else blocks.push({ kind: 'p', text: 'No machine states recorded for this batch.' });

  blocks.push({ kind: 'h', text: SECTION_TITLES.counters! });
  blocks.push({ kind: 'kv', rows: [['Produced (good)', x.counters.produced], ['Rejected', x.counters.rejected], ['Counter updates', String(x.counters.updates)], ['Discontinuities', String(x.counters.discontinuities.length)]] });
  if (x.counters.discontinuities.length) table([['Time', 18], ['Device', 16], ['Counter', 12], ['Previous', 12], ['Value', 12], ['Code', 30]], x.counters.discontinuities.map((c) => [t(c.at), c.device, c.counter, c.previous, c.value, c.code]), '');

  const rc = x.reconciliation;
  blocks.push({ kind: 'h', text: SECTION_TITLES.reconciliation! });
  table(
    [['Material', 14], ['Planned', 12], ['Tolerance', 9], ['Min – max', 18], ['Consumed (net)', 13], ['Difference', 12], ['Within', 8], ['By lot', 24]],
    rc.materials.map((m) => [
      m.material,
      `${m.planned} ${m.unit}`,
      `± ${m.tolerancePct} %`,
      `${m.min} – ${m.max}`,
      `${m.consumed} ${m.unit}`,
      m.difference,
      m.withinTolerance ? 'yes' : 'NO',
      m.byLot.map((l) => `${l.lot}${l.supplierLot ? ` (${l.supplierLot})` : ''}: ${l.net}${l.corrected !== '0' ? ` (−${l.corrected} corrected)` : ''}`).join('; '),
    ]),
    'No bill of materials to reconcile.',
  );
  blocks.push({
    kind: 'kv',
    rows: [
      ['Produced good / rejected / total', `${rc.produced.good} / ${rc.produced.rejected} / ${rc.produced.total} ${rc.unit}`],
      ['Yield', rc.yield.pct === null ? 'not computable (no planned quantity)' : `${rc.yield.pct} % of planned ${rc.plannedQty} ${rc.unit} (limits ${rc.yield.lowerPct}–${rc.yield.upperPct} %: ${rc.yield.within ? 'within' : 'OUTSIDE'})`],
      [
        'Labels',
        `printed ${rc.labels.printed} = applied ${rc.labels.applied} + destroyed ${rc.labels.destroyed}; reprints ${rc.labels.reprints}; unaccounted ${rc.labels.unaccounted}; open ${rc.labels.open}: ${rc.labels.balanced ? 'balanced' : 'NOT balanced'}`,
      ],
    ],
  });

  blocks.push({ kind: 'h', text: SECTION_TITLES.qc! });
  table(
    [['Inspection', 14], ['Plan', 12], ['Scope', 10], ['Lot', 12], ['Verdict', 8], ['Results', 26], ['By', 10], ['Time', 17]],
    x.qc.map((q) => [
      q.id,
      `${s(q.plan)} v${s(q.planVersion)}`,
      q.scope,
      q.lot,
      q.verdict,
      Array.isArray(q.results)
        ? (q.results as Array<Record<string, unknown>>)
            .map((r) => `${s(r.code ?? r.name)} ${r.kind === 'measurement' ? `${s(r.value)} ${s(r.unit)} [${s(r.lower)}..${s(r.upper)}]` : r.conforms ? 'conforms' : 'does not conform'} ${s(r.verdict)}`)
            .join('; ')
        : s(q.results),
      q.inspectedBy,
      t(q.inspectedAt),
    ]),
    'No QC results.',
  );

  blocks.push({ kind: 'h', text: SECTION_TITLES.deviations! });
  if (x.deviations.length === 0) blocks.push({ kind: 'p', text: 'No deviations.' });
  for (const v of x.deviations) {
    blocks.push({
      kind: 'kv',
      rows: [
        ['Deviation', `${s(v.number)} — ${s(v.title)}`],
        ['Type / category / status', `${s(v.type)} / ${s(v.category)} / ${s(v.status)}`],
        ['Raised', `${t(v.raisedAt)} by ${s(v.raisedBy)} (${s(v.source)})`],
        ['Description', s(v.description)],
        ...(v.immediateAction ? ([['Immediate action', s(v.immediateAction)]] as Array<[string, string]>) : []),
        ['Root cause', s(v.rootCause)],
        ['Impact on the batch', s(v.impact)],
        ['CAPA', s(v.capaRef)],
        ['Closed', v.closedAt ? `${t(v.closedAt)} by ${s(v.closedBy)}` : 'not closed'],
      ],
    });
  }

  blocks.push({ kind: 'h', text: SECTION_TITLES.labels! });
  table(
    [['Label', 16], ['Kind', 8], ['Serial / SSCC', 18], ['Printer', 12], ['State', 14], ['Reprint reason', 20], ['Time', 17]],
    x.labels.map((l) => [l.label, l.kind, l.sscc ?? l.serial, l.printer, `${s(l.state)}${l.reprint ? ' (reprint)' : ''}`, l.reprintReason, t(l.at)]),
    'No labels.',
  );
  const reprints = x.labels.filter((l) => l.reprint).length;
  if (x.labels.length) blocks.push({ kind: 'p', text: `${new Set(x.labels.map((l) => l.label)).size} label identities, ${x.labels.length - reprints} first prints, ${reprints} reprints.` });

  for (const sm of x.labelSamples) {
    blocks.push({ kind: 'image', job: sm.job, caption: `${sm.kind} label ${sm.label}, print job ${sm.job} on ${sm.printer} — rendered from the stored ZPL (SHA-256 ${sm.zplSha256}); the picture is not part of the hashed content, the ZPL's hash is` });
  }

  blocks.push({ kind: 'h', text: SECTION_TITLES.exceptions! });
  const nameOf = (id: string): string => {
    const p = x.personnel.find((q) => q.id === id);
    return p && p.name !== id ? `${p.name} (${id})` : id;
  };
  const open = x.exceptions.filter((e) => !e.acknowledged).length;
  if (x.exceptions.length) blocks.push({ kind: 'p', text: `${x.exceptions.length} exception${x.exceptions.length === 1 ? '' : 's'}, ${x.exceptions.length - open} acknowledged by QA, ${open} not acknowledged.` });
  table(
    [['Kind', 12], ['Time', 15], ['Exception', 33], ['Acknowledged by', 12], ['At', 15], ['QA comment', 18]],
    x.exceptions.map((e) => [e.kind, t(e.at), e.summary, e.acknowledged ? nameOf(e.acknowledged.by) : 'NOT acknowledged', e.acknowledged ? t(e.acknowledged.at) : '', e.acknowledged?.comment ?? '']),
    'No exceptions.',
  );

  blocks.push({ kind: 'h', text: SECTION_TITLES.rejectedRecords! });
  table([['#', 7], ['Time', 17], ['Type', 18], ['Code', 26], ['Station/device', 14], ['Operator', 10], ['Clock', 7]], x.rejectedRecords.map((r) => [r.seq, t(r.at), r.type, r.code, r.device ?? r.station, r.operator, r.clockSynced ? 'synced' : 'NOT synced']), 'None.');

  for (const [name, v] of Object.entries(x.extra)) {
    blocks.push({ kind: 'h', text: name });
    if (Array.isArray(v) && v.every((r) => r && typeof r === 'object')) {
      const keys = [...new Set((v as Array<Record<string, unknown>>).flatMap((r) => Object.keys(r)))].slice(0, 8);
      table(keys.map((k) => [k, 100 / keys.length]), (v as Array<Record<string, unknown>>).map((r) => keys.map((k) => r[k])), 'None.');
    } else if (v && typeof v === 'object') blocks.push({ kind: 'kv', rows: Object.entries(v as Record<string, unknown>).map(([k, w]) => [k, s(w)]) });
    else blocks.push({ kind: 'p', text: s(v) });
  }

  blocks.push({ kind: 'h', text: SECTION_TITLES.signatures! });
  table(
    [['Printed name', 18], ['User', 10], ['Role', 8], ['Date/time', 17], ['Meaning', 10], ['Signed', 18], ['Content SHA-256', 19]],
    x.signatures.map((g) => [g.printedName, g.signer, g.role, t(g.signedAt), g.meaning, `${s(g.action)} ${s(g.entity)} ${s(g.entityId)}`, `${s(g.contentHash).slice(0, 16)}…`]),
    'Not signed.',
  );

  blocks.push({ kind: 'h', text: SECTION_TITLES.audit! });
  table([['#', 6], ['Time', 17], ['Actor', 12], ['Action', 20], ['Entity', 22], ['Reason', 23]], x.audit.map((a) => [a.seq, t(a.at), a.actor, a.action, `${s(a.entity)} ${s(a.entityId)}`, a.reason]), 'No audit entries.');

  blocks.push({ kind: 'h', text: 'Verification' });
  blocks.push({
    kind: 'kv',
    rows: [
      ['Content SHA-256', d.contentHash],
      ['Covers', `records up to #${d.asOf.recordSeq}, audit entries up to #${d.asOf.auditSeq}`],
      ['Audit checkpoint head', stamp.checkpoint ? `entry #${stamp.checkpoint.seq} ${stamp.checkpoint.hash} (signed ${t(stamp.checkpoint.at)})` : 'no signed checkpoint yet'],
      ['Generated', `${t(stamp.generatedAt)}${stamp.generatedBy ? ` by ${stamp.generatedBy}` : ''}`],
      ['Check a copy', `linegate report verify FILE (or: linegate report verify --batch ${d.batch} --asof ${d.asOf.recordSeq}.${d.asOf.auditSeq} --sha256 HASH)`],
    ],
  });

  const site = `${x.config.site.id} / ${x.config.line.id}`;
  return {
    title: `Batch record ${d.batch}`,
    subtitle: `${s(h.product)}${h.productName ? ` ${s(h.productName)}` : ''} · ${site} · status ${s(h.status)} · generated ${t(stamp.generatedAt)} (${tz})`,
    footer: `${site} · batch ${d.batch} · generated ${t(stamp.generatedAt)} ${tz}`,
    footerHash: `SHA-256 ${d.contentHash} · as of ${d.asOf.recordSeq}.${d.asOf.auditSeq} · checkpoint ${stamp.checkpoint ? `#${stamp.checkpoint.seq} ${stamp.checkpoint.hash.slice(0, 16)}` : 'none'}`,
    blocks,
    timeZone: tz,
    stripEnd: s(h.completedAt) || stamp.generatedAt,
  };
}
