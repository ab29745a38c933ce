#!/usr/bin/env node
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile, ConfigError } from './config/load.js';
import { publishedSchema, type Config } from './config/schema.js';
import { LgError, isLgError } from './errors.js';
import { Gateway } from './gateway.js';
import { openDatabase } from './store/db.js';
import { Repo, verifyAudit } from './store/repo.js';
import { Journal } from './store/journal.js';
import { Ops } from './ops.js';
import { systemClock } from './util/clock.js';
import { parseForBinding } from './binding/parse.js';
import { affectedBatches, formatBackward, formatForward, traceBackward, traceForward } from './domain/genealogy.js';
import { createLogger } from './util/log.js';
import { auditKey, auditVerify, verifyBatch } from './cli/audit.js';

/**
 * linegate CLI. Exit codes (sysexits): 0 ok, 1 runtime failure (e.g. audit chain broken),
 * 64 usage, 78 configuration (systemd: RestartPreventExitStatus=78 — a bad config is not
 * fixed by restarting).
 */
export const EXIT = { OK: 0, FAIL: 1, USAGE: 64, CONFIG: 78 } as const;

const HELP = `linegate — MES edge gateway

Usage:
  linegate run [--config FILE]            run the gateway (default config: $LINEGATE_CONFIG or /etc/linegate/linegate.yaml)
  linegate demo [--config FILE]           run the gateway with every device simulated (config/demo.yaml)
  linegate check-config FILE              validate a config file; exit 0 (valid) or 78 (invalid, every error listed)
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
                                          genealogy: what went into a batch / where a lot went
  linegate opcua certs [--config FILE]    list OPC UA server certificates (trusted / rejected, thumbprint, subject)
  linegate opcua trust THUMBPRINT|FILE [--config FILE]
                                          trust a server certificate after checking its thumbprint with the PLC's
  linegate user token ID [--config FILE]  issue a new token for user ID (e.g. a lost admin token) — run
                                          as the service user while linegate is stopped or running
  linegate version                        print the version
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function defaultConfigPath(): string {
  return process.env.LINEGATE_CONFIG ?? (process.env.CONFIGURATION_DIRECTORY ? join(process.env.CONFIGURATION_DIRECTORY, 'linegate.yaml') : '/etc/linegate/linegate.yaml');
}

function loadOrExit(file: string): Readonly<Config> {
  try {
    return loadConfigFile(file);
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
      process.stdout.write(`${version()}\n`);
      return EXIT.OK;
    case 'schema':
      process.stdout.write(JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...publishedSchema() }, null, 2) + '\n');
      return EXIT.OK;
    case 'check-config': {
      const file = positionals[0] ?? (values.config as string | undefined);
      if (!file) {
        process.stderr.write('usage: linegate check-config FILE\n');
        return EXIT.USAGE;
      }
      const cfg = loadOrExit(file);
      process.stdout.write(`${file}: valid (site ${cfg.site.id}, line ${cfg.line.id}, ${cfg.stations.length} stations, ${cfg.devices.length} devices, ${cfg.upstream.sinks.length} sinks)\n`);
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
      const [what, key] = positionals;
      if (!key || !['batch', 'lot', 'supplier-lot'].includes(what ?? '')) {
        process.stderr.write('usage: linegate trace batch NUMBER | lot ID | supplier-lot LOT [--config FILE | --db FILE]\n');
        return EXIT.USAGE;
      }
      const dbFile = (values.db as string | undefined) ?? join(loadOrExit((values.config as string | undefined) ?? defaultConfigPath()).storage.stateDir, 'journal.sqlite');
      const db = openDatabase(dbFile, { readonly: true });
      try {
        const repo = new Repo(db);
        const io = repo.genealogyIO();
        if (what === 'batch') {
          const tree = traceBackward(key, io);
          if (!tree) throw new LgError('LG_ERR_BATCH_NOT_FOUND', { batch: key });
          process.stdout.write(formatBackward(tree));
        } else {
          const ids = what === 'lot' ? [key] : (db.prepare('SELECT id FROM lots WHERE supplier_lot = ? ORDER BY id').all(key) as Array<{ id: string }>).map((r) => r.id);
          if (ids.length === 0) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: key });
          const affected = new Set<string>();
          for (const id of ids) {
            const tree = traceForward(id, io);
            if (!tree) throw new LgError('LG_ERR_LOT_NOT_FOUND', { lot: id });
            affectedBatches(tree, affected);
            process.stdout.write(formatForward(tree));
          }
          process.stdout.write(`affected batches: ${[...affected].join(', ') || 'none'}\n`);
        }
        return EXIT.OK;
      } catch (err) {
        process.stderr.write(`${isLgError(err) ? `${err.message} (${err.code})` : (err as Error).message}\n`);
        return EXIT.FAIL;
      } finally {
        db.close();
      }
    }
    case 'opcua': {
      const [sub, arg] = positionals;
      if (sub !== 'certs' && !(sub === 'trust' && arg)) {
        process.stderr.write('usage: linegate opcua certs | opcua trust THUMBPRINT|FILE [--config FILE]\n');
        return EXIT.USAGE;
      }
      const stateDir = loadOrExit((values.config as string | undefined) ?? defaultConfigPath()).storage.stateDir;
      const { listOpcuaCertificates, trustOpcuaCertificate } = await import('./drivers/opcua/index.js');
      try {
        if (sub === 'certs') {
          const certs = listOpcuaCertificates(stateDir);
          if (certs.length === 0) process.stdout.write('no OPC UA server certificates seen yet\n');
          for (const c of certs) process.stdout.write(`${c.status.padEnd(8)} ${c.thumbprint}  ${c.subject ?? ''}  valid ${c.validFrom ?? '?'} … ${c.validTo ?? '?'}\n`);
          return EXIT.OK;
        }
        const c = await trustOpcuaCertificate(stateDir, arg!);
        process.stdout.write(`trusted ${c.thumbprint}  ${c.subject ?? ''} — the driver connects at its next attempt (no restart needed)\n`);
        return EXIT.OK;
      } catch (err) {
        process.stderr.write(`${isLgError(err) ? `${err.message} (${err.code})` : (err as Error).message}\n`);
        return EXIT.FAIL;
      }
    }
    case 'user': {
      if (positionals[0] !== 'token' || !positionals[1]) {
        process.stderr.write('usage: linegate user token ID [--config FILE]\n');
        return EXIT.USAGE;
      }
      const cfg = loadOrExit((values.config as string | undefined) ?? defaultConfigPath());
      const db = openDatabase(join(cfg.storage.stateDir, 'journal.sqlite'), { synchronous: cfg.storage.synchronous });
      const journal = new Journal(db, { site: cfg.site.id, line: cfg.line.id, sinks: cfg.upstream.sinks.map((s) => s.id) });
      const repo = new Repo(db);
      const ops = new Ops(cfg, journal, repo, systemClock, parseForBinding);
      try {
        const id = positionals[1];
        const user = repo.userById(id);
        if (!user) throw new LgError('LG_ERR_USER_NOT_FOUND', { user: id });
        // Audited as done from the console by the operating-system user.
        const { token } = await ops.updateUser(id, { rotateToken: true, disabled: false }, { id: `cli:${process.env.USER ?? 'unknown'}`, role: 'admin' });
        process.stdout.write(`${token}\n`);
        process.stderr.write(`new token issued for ${id} (${user.role}); the old one no longer works\n`);
        return EXIT.OK;
      } finally {
        await journal.close();
        db.close();
      }
    }
    case 'run':
    case 'demo': {
      const file = (values.config as string | undefined) ?? (cmd === 'demo' ? 'config/demo.yaml' : defaultConfigPath());
      const cfg = loadOrExit(file);
      const logger = createLogger({ level: process.env.LINEGATE_LOG_LEVEL ?? cfg.log.level });
      if (cmd === 'demo') {
        const { runDemo } = await import('./demo.js');
        return runDemo(cfg, logger);
      }
      const gw = new Gateway(cfg, { logger });
      installSignals(gw, logger);
      await gw.start();
      return new Promise<number>(() => {
        /* runs until a signal */
      });
    }
    default:
      process.stderr.write(`unknown command "${cmd}"\n\n${HELP}`);
      return EXIT.USAGE;
  }
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
