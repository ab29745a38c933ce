/**
 * The gateway's OPC UA PKI: `${stateDir}/pki/opcua` (node-opcua-pki layout: own/, trusted/certs,
 * rejected/, issuers/). Never the home folder: a systemd service's home may be read-only, and the
 * trust list belongs with the gateway's state.
 *
 * Trust is a person's decision: an unknown server certificate lands in rejected/ (the client
 * refuses the connection, LG_ERR_OPCUA_CERT_UNTRUSTED with its thumbprint); `linegate opcua trust
 * <thumbprint>` (or the API) moves it to trusted/ after someone compared the thumbprint with the
 * one shown on the PLC. The driver builds a fresh certificate manager on each connect attempt, so
 * a trust given while it retries is picked up without a restart.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LgError } from '../../errors.js';
import { loadOpcua } from './load.js';

export function opcuaPkiDir(stateDir: string): string {
  return join(stateDir, 'pki', 'opcua');
}

export interface OpcuaCertificateInfo {
  /** SHA-1 of the DER certificate, lowercase hex: what OPC UA tools show as the thumbprint. */
  thumbprint: string;
  status: 'trusted' | 'rejected';
  subject: string | null;
  validFrom: string | null;
  validTo: string | null;
  file: string;
}

/** PEM (one or more blocks; the first is used) or DER bytes → DER. */
export function toDer(buf: Buffer): Buffer {
  const s = buf.toString('latin1');
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(s);
  return m ? Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64') : buf;
}

export function thumbprintOf(der: Buffer): string {
  return createHash('sha1').update(der).digest('hex');
}

function describe(file: string, status: OpcuaCertificateInfo['status']): OpcuaCertificateInfo | null {
  try {
    const der = toDer(readFileSync(file));
    let subject: string | null = null;
    let validFrom: string | null = null;
    let validTo: string | null = null;
    try {
      const x = new X509Certificate(der);
      subject = x.subject.replace(/\n/g, ', ');
      validFrom = new Date(x.validFrom).toISOString();
      validTo = new Date(x.validTo).toISOString();
    } catch {
      // Not parseable by OpenSSL: still listed by thumbprint so a person can look at it.
    }
    return { thumbprint: thumbprintOf(der), status, subject, validFrom, validTo, file };
  } catch {
    return null;
  }
}

function certFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.(pem|der|crt)$/i.test(f))
    .map((f) => join(dir, f));
}

/** Every certificate the gateway's OPC UA PKI knows: trusted ones and the rejected ones waiting for a decision. */
export function listOpcuaCertificates(stateDir: string): OpcuaCertificateInfo[] {
  const root = opcuaPkiDir(stateDir);
  const out: OpcuaCertificateInfo[] = [];
  for (const f of certFiles(join(root, 'trusted', 'certs'))) {
    const d = describe(f, 'trusted');
    if (d) out.push(d);
  }
  for (const f of certFiles(join(root, 'rejected'))) {
    const d = describe(f, 'rejected');
    if (d) out.push(d);
  }
  return out;
}

/** The rejected certificate written most recently (what a refused connect just stored). */
export function newestRejected(stateDir: string): OpcuaCertificateInfo | null {
  const files = certFiles(join(opcuaPkiDir(stateDir), 'rejected'))
    .map((f) => ({ f, t: statSync(f).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  return files[0] ? describe(files[0].f, 'rejected') : null;
}

/**
 * Trust a server certificate: a thumbprint (full, or a unique prefix of at least 8 hex digits, of a
 * certificate in rejected/) or the path of a PEM/DER file a person obtained from the PLC.
 * Throws LgError LG_ERR_OPCUA_CERT_NOT_FOUND when nothing matches.
 */
export async function trustOpcuaCertificate(stateDir: string, thumbprintOrFile: string): Promise<OpcuaCertificateInfo> {
  const root = opcuaPkiDir(stateDir);
  mkdirSync(root, { recursive: true });
  let der: Buffer;
  const arg = thumbprintOrFile.trim();
  if (existsSync(arg) && statSync(arg).isFile()) {
    der = toDer(readFileSync(arg));
  } else {
    const want = arg.toLowerCase().replace(/[^0-9a-f]/g, '');
    const known = listOpcuaCertificates(stateDir);
    const matches = want.length >= 8 ? known.filter((c) => c.thumbprint.startsWith(want)) : [];
    const unique = [...new Map(matches.map((m) => [m.thumbprint, m])).values()];
    if (unique.length !== 1) {
      throw new LgError('LG_ERR_OPCUA_CERT_NOT_FOUND', {
        thumbprint: arg,
        detail: unique.length > 1 ? 'the prefix matches several certificates; give more digits' : `known: ${known.map((c) => `${c.thumbprint} (${c.status})`).join(', ') || 'none'}`,
      });
    }
    if (unique[0]!.status === 'trusted') return unique[0]!;
    der = toDer(readFileSync(unique[0]!.file));
  }
  // node-opcua-pki's own API writes trusted/certs/<name>[<thumbprint>].pem and removes the copy in
  // rejected/ (the same thing its tools do), so its index stays consistent.
  const { OPCUACertificateManager } = await loadOpcua();
  const cm = new OPCUACertificateManager({ rootFolder: root, automaticallyAcceptUnknownCertificate: false });
  try {
    await cm.initialize();
    await cm.trustCertificate(der);
  } finally {
    await cm.dispose().catch(() => undefined);
  }
  const tp = thumbprintOf(der);
  const info = listOpcuaCertificates(stateDir).find((c) => c.thumbprint === tp && c.status === 'trusted');
  return info ?? { thumbprint: tp, status: 'trusted', subject: null, validFrom: null, validTo: null, file: join(root, 'trusted', 'certs') };
}
