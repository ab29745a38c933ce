#!/usr/bin/env node
// First: node-opcua's own loggers are replaced before node-opcua loads (stdout stays JSON).
import { routeConsoleToLogger } from './service/console-log.js';
import { chownSync, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile, ConfigError } from './config/load.js';
import { type Config } from './config/schema.js';
import { editorSchema } from './config/published.js';
import { LgError, isLgError } from './errors.js';
import { Gateway } from './gateway.js';
import { openDatabase } from './store/db.js';
import { Repo, verifyAudit } from './store/repo.js';
import { Journal } from './store/journal.js';
import { Ops } from './ops.js';
import { systemClock } from './util/clock.js';
import { parseForBinding } from './binding/parse.js';
import { affectedBatches, formatBackward, formatCustomerTrace, formatForward, traceBackward, traceForward } from './domain/genealogy.js';
import { traceCustomers } from './usecases/exports.js';
import { createLogger } from './util/log.js';
import { auditKey, auditVerify, verifyBatch } from './cli/audit.js';
import { versionLine } from './service/version.js';

/**
 * linegate CLI. Exit codes (sysexits): 0 ok, 1 runtime failure (e.g. audit chain broken),
 * 64 usage, 69 unavailable (the API port is taken: restarting later may help), 78 configuration (systemd: RestartPreventExitStatus=78 — a bad config is not
 * fixed by restarting).
 */
export const EXIT = { OK: 0, FAIL: 1, USAGE: 64, UNAVAILABLE: 69, CONFIG: 78 } as const;

/** Start failures that are a one-line hint and exit 69 (EX_UNAVAILABLE), not a stack. */
export const PORT_IN_USE: ReadonlySet<string> = new Set(['LG_ERR_API_PORT_IN_USE', 'LG_ERR_METRICS_PORT_IN_USE']);

const HELP = `linegate — MES edge gateway

Usage:
  linegate run [--config FILE]            run the gateway (default config: $LINEGATE_CONFIG or /etc/linegate/linegate.yaml)
  linegate demo [--config FILE]           run the gateway with every device simulated (config/demo.yaml)
  linegate check-config FILE [--no-secrets]
                                          validate a config file; exit 0 (valid) or 78 (invalid, every error listed);
                                          --no-secrets: references to unset secrets are accepted (CI, review)
  linegate schema                         print the JSON Schema of the config file
  linegate audit verify [--config FILE | --db FILE] [--checkpoints FILE] [--public-key FILE]
                                          verify the audit trail's hash chain and its signed checkpoints;
                                          names the first broken entry, a deletion or a truncation
  linegate audit key [--config FILE]      print the gateway's audit-signing public key (Ed25519)
  linegate verify batch NUMBER [--config FILE | --db FILE]
                                          recompute every electronic signature of a batch against its record
  linegate report batch NUMBER --pdf FILE [--html FILE] [--json FILE] [--config FILE | --db FILE]
                                          the batch record report (PDF/HTML/JSON), offline from the journal
  linegate report verify FILE [--config FILE | --db FILE] [--checkpoints FILE] [--public-key FILE]
                                          check a report copy (PDF, HTML or JSON) against the journal; a paper
                                          copy: report verify --batch N --asof R.A --sha256 HASH
  linegate trace batch NUMBER | lot ID | supplier-lot LOT [--config FILE]
  linegate trace customers --supplier-lot LOT [--supplier S] | --lot ID | --serial S [--gtin G] | --batch NUMBER
                                          genealogy: what went into a batch / where a lot went
  linegate recall list | recall show NUMBER [--csv] [--config FILE | --db FILE]
                                          recalls from the journal: what each held, what had shipped
  linegate recall start (--supplier-lot LOT [--supplier S] | --lot ID | --batch NUMBER) --reason R --user QA_ID [--config FILE]
                                          start a recall as QA user QA_ID, signed with its signing secret
                                          ($LINEGATE_SIGNING_SECRET or one line on stdin)
  linegate plant migrate | plant trace supplier-lot LOT | lot ID | batch [LINE/]NUMBER | plant serve
          (--postgres URL [--schema S] | --config FILE) [--json]
                                          the plant store (PostgreSQL): schema, cross-line genealogy
  linegate opcua certs [--config FILE]    list OPC UA server certificates (trusted / rejected, thumbprint, subject)
  linegate opcua trust THUMBPRINT|FILE [--config FILE]
                                          trust a server certificate after checking its thumbprint with the PLC's
  linegate user token ID [--config FILE]  issue a new token for user ID (e.g. a lost admin token)
  linegate user add ID --name NAME --role ROLE [--badge B] [--config FILE]
                                          create a user; prints its token (shown once)
  linegate user role ID ROLE [--config FILE]
                                          change a user's role (the last active admin cannot lose it)
  linegate user disable ID | user enable ID [--config FILE]
                                          disable (the token stops working at once) or re-enable a user
                                          User commands work on the journal directly, with linegate stopped
                                          or running, as the service user or root; each is audited as
                                          cli:<login name>.
  linegate doctor [--config FILE]         check config, state folder and space, serial ports, ports, clock,
                                          OPC UA certificates, sinks: one line each; exit 1 if one fails
  linegate backup FILE [--config FILE | --db FILE]
                                          online backup of the journal (consistent while running; verified)
  linegate restore FILE [--config FILE | --db FILE]
                                          replace the journal with a verified backup (refused while linegate runs)
  linegate version | --version            print the version and build (git commit)
`;

function defaultConfigPath(): string {
  return process.env.LINEGATE_CONFIG ?? (process.env.CONFIGURATION_DIRECTORY ? join(process.env.CONFIGURATION_DIRECTORY, 'linegate.yaml') : '/etc/linegate/linegate.yaml');
}

function loadOrExit(file: string, opts: { allowMissingSecrets?: boolean } = {}): Readonly<Config> {
  try {
    return loadConfigFile(file, opts);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n(${err.issues.length} error${err.issues.length === 1 ? '' : 's'}; LG_ERR_CONFIG_INVALID)\n`);
    } else if (isLgError(err)) {
      process.stderr.write(`${err.message} (${err.code})\n`);
    } else {
      process.stderr.write(`${(err as Error).message}\n`);
    }
    process.exit(EXIT.CONFIG);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { config: { type: 'string', short: 'c' }, db: { type: 'string' }, checkpoints: { type: 'string' }, 'public-key': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      name: { type: 'string' }, role: { type: 'string' }, badge: { type: 'string' }, 'no-secrets': { type: 'boolean' },
      'supplier-lot': { type: 'string' }, supplier: { type: 'string' }, lot: { type: 'string' }, serial: { type: 'string' }, gtin: { type: 'string' },
      reason: { type: 'string' }, user: { type: 'string' }, csv: { type: 'boolean' },
      pdf: { type: 'string' }, html: { type: 'string' }, json: { type: 'string' }, batch: { type: 'string' }, asof: { type: 'string' }, sha256: { type: 'string' } },
    allowPositionals: true,
    strict: false,
  });
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return cmd === undefined ? EXIT.USAGE : EXIT.OK;
    case 'version':
    case '--version':
      process.stdout.write(`linegate ${versionLine()}\n`);
      return EXIT.OK;
    case 'schema':
      process.stdout.write(JSON.stringify(editorSchema(), null, 2) + '\n');
      return EXIT.OK;
    case 'check-config': {
      const file = positionals[0] ?? (values.config as string | undefined);
      if (!file) {
        process.stderr.write('usage: linegate check-config FILE\n');
        return EXIT.USAGE;
      }
      // --no-secrets: check the file on a machine without its secrets (CI, a review): references
      // without a value are accepted, and their fields are not checked.
      const noSecrets = values['no-secrets'] === true;
      const cfg = loadOrExit(file, { allowMissingSecrets: noSecrets });
      process.stdout.write(`${file}: valid${noSecrets ? ' (secrets not checked)' : ''} (site ${cfg.site.id}, line ${cfg.line.id}, ${cfg.stations.length} stations, ${cfg.devices.length} devices, ${cfg.upstream.sinks.length} sinks)\n`);
      return EXIT.OK;
    }
    case 'audit': {
      const sub = positionals[0];
      if (sub !== 'verify' && sub !== 'key') {
        process.stderr.write('usage: linegate audit verify [--config FILE | --db FILE] [--checkpoints FILE] [--public-key FILE] | audit key [--config FILE]\n');
        return EXIT.USAGE;
      }
      const stateDir = (): string => loadOrExit((values.config as string | undefined) ?? defaultConfigPath()).storage.stateDir;
      if (sub === 'key') return auditKey(values.db ? dirname(values.db as string) : stateDir());
      const dbFile = (values.db as string | undefined) ?? join(stateDir(), 'journal.sqlite');
      return auditVerify({ dbFile, checkpoints: values.checkpoints as string | undefined, publicKey: values['public-key'] as string | undefined });
    }
    case 'verify': {
      const [what, number] = positionals;
      if (what !== 'batch' || !number) {
        process.stderr.write('usage: linegate verify batch NUMBER [--config FILE | --db FILE]\n');
        return EXIT.USAGE;
      }
      const dbFile = (values.db as string | undefined) ?? join(loadOrExit((values.config as string | undefined) ?? defaultConfigPath()).storage.stateDir, 'journal.sqlite');
      return verifyBatch(dbFile, number);
    }
    case 'report': {
      const [sub, arg] = positionals;
      if (!((sub === 'batch' && arg) || sub === 'verify')) {
        process.stderr.write('usage: linegate report batch NUMBER --pdf FILE [--html FILE] [--json FILE] [--config FILE | --db FILE] | report verify FILE [--config FILE | --db FILE]\n');
        return EXIT.USAGE;
      }
      const cfgFile = values.config as string | undefined;
      // --db alone: offline on a journal copy, no config; --config (with or without --db) adds site and equipment.
      const cfg = cfgFile || !values.db ? loadOrExit(cfgFile ?? defaultConfigPath()) : null;
      const dbFile = (values.db as string | undefined) ?? join(cfg!.storage.stateDir, 'journal.sqlite');
      // Imported here: pdfkit is not needed to run the gateway.
      const { reportBatch, reportVerify } = await import('./cli/report.js');
      if (sub === 'batch') {
        return reportBatch(arg!, { dbFile, cfg, pdf: values.pdf as string | undefined, html: values.html as string | undefined, json: values.json as string | undefined });
      }
      return reportVerify({
        dbFile, cfg, file: arg, batch: values.batch as string | undefined, asof: values.asof as string | undefined, sha256: values.sha256 as string | undefined,
        checkpoints: values.checkpoints as string | undefined, publicKey: values['public-key'] as string | undefined,
      });
    }
    case 'trace': {
      const [what, positionalKey] = positionals;
      // Issue 15: `trace customers --supplier-lot L [--supplier S]` (or --lot ID / --batch NUMBER).
      const key = what === 'customers' ? ((values['supplier-lot'] ?? values.lot ?? values.batch ?? values.serial) as string | undefined) : positionalKey;
      if (!key || !['batch', 'lot', 'supplier-lot', 'customers'].includes(what ?? '')) {
        process.stderr.write('usage: linegate trace batch NUMBER | lot ID | supplier-lot LOT | customers --supplier-lot LOT [--supplier S] | --lot ID | --serial S [--gtin G] | --batch NUMBER [--config FILE | --db FILE]\n');
        return EXIT.USAGE;
      }
      const dbFile = (values.db as string | undefined) ?? join(loadOrExit((values.config as string | undefined) ?? defaultConfigPath()).storage.stateDir, 'journal.sqlite');
      const db = openDatabase(dbFile, { readonly: true });
      try {
        const repo = new Repo(db);
        const io = repo.genealogyIO();
        if (what === 'customers') {
          const q = { supplierLot: values['supplier-lot'] as string | undefined, supplier: values.supplier as string | undefined, lot: values.lot as string | undefined, batch: values.batch as string | undefined, serial: values.serial as string | undefined, gtin: values.gtin as string | undefined };
          process.stdout.write(formatCustomerTrace(traceCustomers(repo, q)));
        } else if (what === 'batch') {
          const tree = traceBackward(key, io);
          if (!tree) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: key });
          process.stdout.write(formatBackward(tree));
        } else {
          const ids = what === 'lot' ? [key] : repo.lotIdsBySupplierLot({ supplierLot: key });
          if (ids.length === 0) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: key });
          const affected = new Set<string>();
          for (const id of ids) {
            const tree = traceForward(id, io);
            if (!tree) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: id });
            affectedBatches(tree, affected);
            process.stdout.write(formatForward(tree));
          }
          process.stdout.write(`affected batches: ${[...affected].join(', ') || 'none'}\n`);
          if (what === 'supplier-lot') process.stdout.write(formatCustomerTrace(traceCustomers(repo, { supplierLot: key })));
        }
        return EXIT.OK;
      } catch (err) {
        process.stderr.write(`${isLgError(err) ? `${err.message} (${err.code})` : (err as Error).message}\n`);
        return EXIT.FAIL;
      } finally {
        db.close();
      }
    }
    case 'recall': {
      // Issue 15. list/show read the journal (read-only, like trace); start writes to it like the user
      // commands (with linegate stopped or running) as the named QA user, who signs with the signing
      // secret from $LINEGATE_SIGNING_SECRET or one line on stdin — never a command-line argument.
      const [sub, key] = positionals;
      const usage =
        'usage: linegate recall list | recall show NUMBER [--csv] [--config FILE | --db FILE]\n' +
        '       linegate recall start (--supplier-lot L [--supplier S] | --lot ID | --batch N) --reason R --user QA_ID [--config FILE]\n' +
        '       (the signing secret of QA_ID: $LINEGATE_SIGNING_SECRET, or one line on stdin)\n';
      if (!['list', 'show', 'start'].includes(sub ?? '') || (sub === 'show' && !key) || (sub === 'start' && (!values.reason || !values.user))) {
        process.stderr.write(usage);
        return EXIT.USAGE;
      }
      const { RecallQueries, Recalls, formatRecall } = await import('./usecases/recalls.js');
      if (sub !== 'start') {
        const dbFile = (values.db as string | undefined) ?? join(loadOrExit((values.config as string | undefined) ?? defaultConfigPath()).storage.stateDir, 'journal.sqlite');
        const db = openDatabase(dbFile, { readonly: true });
        try {
          const q = new RecallQueries(new Repo(db));
          if (sub === 'list') {
            for (const r of q.list()) process.stdout.write(`${r.number} [${r.status}] ${r.scope.kind} ${r.scope.value}${r.scope.supplier ? ` (${r.scope.supplier})` : ''}: ${r.counts.batchesHeld} batches, ${r.counts.lotsHeld} lots, ${r.counts.palletsHeld} pallets held; ${r.counts.deliveriesShipped} deliveries shipped; ${r.counts.stillOnHold} still on hold — ${r.reason}\n`);
            return EXIT.OK;
          }
          const r = q.get(key!);
          if (!r) throw new LgError('LG_ERR_RECALL_NOT_FOUND', { recall: key });
          process.stdout.write(values.csv ? q.csv(key!) : formatRecall(r));
          return EXIT.OK;
        } catch (err) {
          process.stderr.write(`${isLgError(err) ? `${err.message} (${err.code})` : (err as Error).message}\n`);
          return EXIT.FAIL;
        } finally {
          db.close();
        }
      }
      const cfg = loadOrExit((values.config as string | undefined) ?? defaultConfigPath());
      if (!existsSync(join(cfg.storage.stateDir, 'journal.sqlite'))) {
        process.stderr.write(`no journal at ${join(cfg.storage.stateDir, 'journal.sqlite')}\n`);
        return EXIT.FAIL;
      }
      const secret = process.env.LINEGATE_SIGNING_SECRET ?? (await readLine(process.stdin));
      const store = openStore(cfg);
      try {
        const user = store.repo.userById(String(values.user));
        if (!user) throw new LgError('LG_ERR_USER_NOT_FOUND', { user: values.user });
        const { Exports } = await import('./usecases/exports.js');
        const recalls = new Recalls(cfg, store.journal, store.repo, store.ops.batches, store.ops.signatures, () => new Exports(store.repo, cfg, () => new Date()));
        const r = await recalls.start(
          {
            supplierLot: values['supplier-lot'] as string | undefined,
            supplier: values.supplier as string | undefined,
            lot: values.lot as string | undefined,
            batch: values.batch as string | undefined,
            reason: String(values.reason),
            signature: { userId: user.id, secret: secret ?? '', meaning: 'approved', statement: `recall started at the console by ${cliActor().id}` },
          },
          { id: user.id, role: user.role },
        );
        process.stdout.write(formatRecall(r));
        return EXIT.OK;
      } catch (err) {
        process.stderr.write(`${isLgError(err) ? `${err.message} (${err.code})` : (err as Error).message}\n`);
        return EXIT.FAIL;
      } finally {
        await store.close();
      }
    }
    case 'plant': {
      const { plantCommand } = await import('./upstream/plant-cli.js');
      return plantCommand(rest, loadOrExit);
    }
    case 'opcua': {
      const [sub, arg] = positionals;
      if (sub !== 'certs' && !(sub === 'trust' && arg)) {
        process.stderr.write('usage: linegate opcua certs | opcua trust THUMBPRINT|FILE [--config FILE]\n');
        return EXIT.USAGE;
      }
      const ocfg = loadOrExit((values.config as string | undefined) ?? defaultConfigPath());
      const stateDir = ocfg.storage.stateDir;
      const { listOpcuaCertificates } = await import('./drivers/opcua/index.js');
      try {
        if (sub === 'certs') {
          const certs = listOpcuaCertificates(stateDir);
          if (certs.length === 0) process.stdout.write('no OPC UA server certificates seen yet\n');
          for (const c of certs) process.stdout.write(`${c.status.padEnd(8)} ${c.thumbprint}  ${c.subject ?? ''}  valid ${c.validFrom ?? '?'} … ${c.validTo ?? '?'}\n`);
          return EXIT.OK;
        }
        const { trustCertificateAudited } = await import('./api/routes/machines.js');
        if (!existsSync(join(stateDir, 'journal.sqlite'))) {
          // The trust is audited in the journal; one created here (maybe by root) could lock the service out.
          process.stderr.write(`no journal at ${join(stateDir, 'journal.sqlite')} — start linegate once first\n`);
          return EXIT.FAIL;
        }
        const store = openStore(ocfg);
        try {
          const c = await trustCertificateAudited(stateDir, arg!, { journal: store.journal, logger: createLogger({ level: process.env.LINEGATE_LOG_LEVEL ?? 'warn', destination: 2 }) }, { id: cliActor().id, via: 'cli' });
          process.stdout.write(
            c.alreadyTrusted
              ? `already trusted ${c.thumbprint}  ${c.subject ?? ''}\n`
              : `trusted ${c.thumbprint}  ${c.subject ?? ''} — audited as ${cliActor().id}; the driver connects at its next attempt (no restart needed)\n`,
          );
          return EXIT.OK;
        } finally {
          await store.close();
        }
      } catch (err) {
        process.stderr.write(`${isLgError(err) ? `${err.message} (${err.code})` : (err as Error).message}\n`);
        return EXIT.FAIL;
      }
    }
    case 'user': {
      const [sub, id, arg] = positionals;
      const usage = 'usage: linegate user token ID | user add ID --name NAME --role ROLE [--badge B] | user role ID ROLE | user disable ID | user enable ID [--config FILE]\n';
      if (!id || !['token', 'add', 'role', 'disable', 'enable'].includes(sub ?? '') || (sub === 'role' && !arg)) {
        process.stderr.write(usage);
        return EXIT.USAGE;
      }
      const role = sub === 'role' ? arg : (values.role as string | undefined);
      if ((sub === 'role' || sub === 'add') && !ROLES.includes(role as never)) {
        process.stderr.write(`role must be one of ${ROLES.join(', ')}\n${usage}`);
        return EXIT.USAGE;
      }
      if (sub === 'add' && !values.name) {
        process.stderr.write(`--name is required\n${usage}`);
        return EXIT.USAGE;
      }
      const cfg = loadOrExit((values.config as string | undefined) ?? defaultConfigPath());
      if (!existsSync(join(cfg.storage.stateDir, 'journal.sqlite'))) {
        // Not created here: a journal made by root would be unreadable for the service.
        process.stderr.write(`no journal at ${join(cfg.storage.stateDir, 'journal.sqlite')} — start linegate once first (it creates the admin user)\n`);
        return EXIT.FAIL;
      }
      const store = openStore(cfg);
      const { repo, ops } = store;
      // Audited as done from the console by the operating-system user (the person behind sudo).
      const by = cliActor();
      try {
        if (sub === 'add') {
          const { token } = await ops.createUser({ id, name: String(values.name), role: role as never, badge: (values.badge as string | undefined) ?? null }, by);
          process.stdout.write(`${token}\n`);
          process.stderr.write(`user ${id} (${role}) created, audited as ${by.id}; the token above is shown only once\n`);
          return EXIT.OK;
        }
        const user = repo.userById(id);
        if (!user) throw new LgError('LG_ERR_USER_NOT_FOUND', { user: id });
        if (sub === 'token') {
          const { token } = await ops.updateUser(id, { rotateToken: true, disabled: false }, by);
          process.stdout.write(`${token}\n`);
          process.stderr.write(`new token issued for ${id} (${user.role}); the old one no longer works\n`);
        } else if (sub === 'role') {
          await ops.updateUser(id, { role: role as never }, by);
          process.stdout.write(`user ${id}: role ${user.role} → ${role} (audited as ${by.id})\n`);
        } else {
          await ops.updateUser(id, { disabled: sub === 'disable' }, by);
          process.stdout.write(`user ${id} ${sub}d (audited as ${by.id})\n`);
        }
        return EXIT.OK;
      } catch (err) {
        process.stderr.write(`${isLgError(err) ? `${err.message} (${err.code})` : (err as Error).message}\n`);
        return EXIT.FAIL;
      } finally {
        await store.close();
      }
    }
    case 'doctor': {
      const { runDoctor, formatCheck } = await import('./service/doctor.js');
      const checks = await runDoctor((values.config as string | undefined) ?? positionals[0] ?? defaultConfigPath());
      for (const c of checks) process.stdout.write(formatCheck(c));
      return checks.some((c) => c.verdict === 'fail') ? EXIT.FAIL : EXIT.OK;
    }
    case 'backup':
    case 'restore': {
      // Online backup / offline restore of the journal (src/service/backup.ts; README "Backup and restore").
      const target = positionals[0];
      if (!target) {
        process.stderr.write(`usage: linegate ${cmd} FILE [--config FILE | --db FILE]\n`);
        return EXIT.USAGE;
      }
      const { backupJournal, restoreJournal, JOURNAL_FILE } = await import('./service/backup.js');
      const dbFile = (values.db as string | undefined) ?? join(loadOrExit((values.config as string | undefined) ?? defaultConfigPath()).storage.stateDir, JOURNAL_FILE);
      try {
        if (cmd === 'backup') {
          const r = await backupJournal(dbFile, target);
          process.stdout.write(`backup ${r.file}: ${r.records} records (last seq ${r.lastSeq}), ${r.auditEntries} audit entries, schema ${r.schemaVersion}, ${r.bytes} bytes, ${r.ms} ms — integrity_check ok, audit chain intact\n`);
        } else {
          const r = restoreJournal(dirname(dbFile), target);
          process.stdout.write(`restored ${target} → ${dbFile}: ${r.restored.records} records (last seq ${r.restored.lastSeq}), ${r.restored.auditEntries} audit entries${r.replaced ? `; the journal it replaced is kept as ${r.replaced}` : ''}\n`);
          process.stdout.write('records pending upstream in the backup are sent again at the next start with their original ids (receivers deduplicate by id)\n');
        }
        return EXIT.OK;
      } catch (err) {
        process.stderr.write(`${isLgError(err) ? `${err.message} (${err.code})` : (err as Error).message}\n`);
        return EXIT.FAIL;
      }
    }
    case 'run':
    case 'demo': {
      const file = (values.config as string | undefined) ?? (cmd === 'demo' ? 'config/demo.yaml' : defaultConfigPath());
      const cfg = loadOrExit(file);
      const logger = createLogger({ level: process.env.LINEGATE_LOG_LEVEL ?? cfg.log.level });
      routeConsoleToLogger(logger);
      if (cmd === 'demo') {
        const { runDemo } = await import('./demo.js');
        return runDemo(cfg, logger);
      }
      const gw = new Gateway(cfg, { logger });
      installSignals(gw, logger);
      try {
        await gw.start();
      } catch (err) {
        if (isLgError(err) && PORT_IN_USE.has(err.code)) {
          // One line, no stack: the hint is the whole story. 69 (EX_UNAVAILABLE) is not in the
          // unit's RestartPreventExitStatus — the port may be free on the next try.
          process.stderr.write(`linegate: ${err.message} (${err.code})\n`);
          await gw.stop().catch(() => undefined);
          return EXIT.UNAVAILABLE;
        }
        throw err;
      }
      return new Promise<number>(() => {
        /* runs until a signal */
      });
    }
    default:
      process.stderr.write(`unknown command "${cmd}"\n\n${HELP}`);
      return EXIT.USAGE;
  }
}

const ROLES = ['operator', 'supervisor', 'qa', 'admin', 'erp'] as const;

/** The person at the console: the login behind sudo when there is one. */
function cliActor(): { id: string; role: 'admin' } {
  let name = process.env.SUDO_USER;
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = process.env.USER ?? 'unknown';
    }
  }
  return { id: `cli:${name}`, role: 'admin' };
}

/**
 * The journal opened for a CLI command. Run as root, files SQLite creates (-wal, -shm) would be
 * root's and lock the service out: they are handed to the state folder's owner on close.
 */
function openStore(cfg: Readonly<Config>): { db: ReturnType<typeof openDatabase>; journal: Journal; repo: Repo; ops: Ops; close(): Promise<void> } {
  const file = join(cfg.storage.stateDir, 'journal.sqlite');
  const db = openDatabase(file, { synchronous: cfg.storage.synchronous });
  const journal = new Journal(db, { site: cfg.site.id, line: cfg.line.id, sinks: cfg.upstream.sinks.map((s) => s.id) });
  const repo = new Repo(db);
  const ops = new Ops(cfg, journal, repo, systemClock, parseForBinding);
  const handOver = (): void => {
    if (process.getuid?.() !== 0) return;
    const owner = statSync(cfg.storage.stateDir);
    if (owner.uid === 0) return;
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      try {
        chownSync(f, owner.uid, owner.gid);
      } catch {
        /* gone: nothing to hand over */
      }
    }
  };
  handOver();
  return {
    db,
    journal,
    repo,
    ops,
    close: async () => {
      await journal.close();
      handOver();
      db.close();
      handOver();
    },
  };
}

/** One line from a stream (the signing secret on stdin), without its line end; null at end of input. */
function readLine(stream: NodeJS.ReadableStream): Promise<string | null> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (v: string | null) => {
      stream.removeAllListeners('data');
      stream.removeAllListeners('end');
      stream.pause();
      resolve(v);
    };
    stream.setEncoding?.('utf8');
    stream.on('data', (c: string) => {
      buf += c;
      const i = buf.indexOf('\n');
      if (i >= 0) done(buf.slice(0, i).replace(/\r$/, ''));
    });
    stream.on('end', () => done(buf.length ? buf.replace(/\r?\n?$/, '') : null));
    stream.resume();
  });
}

/** SIGTERM/SIGINT: bounded graceful stop; a second signal exits at once. */
export function installSignals(gw: { stop(): Promise<void> }, logger: ReturnType<typeof createLogger>, extraStop?: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ sig }, 'second signal: exiting now');
      process.exit(EXIT.FAIL);
    }
    stopping = true;
    logger.info({ sig }, 'stopping');
    const hard = setTimeout(() => {
      logger.error('shutdown took longer than 15 s: exiting');
      process.exit(EXIT.FAIL);
    }, 15_000);
    hard.unref();
    gw.stop()
      .then(() => extraStop?.())
      .then(() => process.exit(EXIT.OK))
      .catch((err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(EXIT.FAIL);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection (the daemon keeps running)'));
  process.on('uncaughtException', (err) => {
    // A bug, not bad input: the journal is consistent (every commit is atomic), so exit and let
    // systemd restart us rather than run on in an unknown state.
    logger.fatal({ err }, 'uncaught exception: exiting for a clean restart');
    process.exit(EXIT.FAIL);
  });
}

function invokedDirectly(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}
if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${isLgError(err) ? `${err.message} (${err.code})` : (err as Error).stack}\n`);
      process.exit(err instanceof LgError && err.code === 'LG_ERR_CONFIG_INVALID' ? EXIT.CONFIG : EXIT.FAIL);
    },
  );
}
