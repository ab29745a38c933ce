/**
 * Configuration checks that need the device data files (issue 10.12): a device naming a profile,
 * node map, printer model or label template that does not exist, a scanner whose framing cannot
 * work, and two devices on one serial path are configuration errors (`path: message`, exit 78) —
 * found by `check-config` and at start-up, never as a device quietly missing from a "ready" gateway.
 *
 * Each device's files are loaded exactly as its driver will load them (same loader, same
 * overrides), so what passes here starts.
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigIssue } from './load.js';
import type { Config } from './schema.js';
import { deviceFileNames, deviceSearchPath, findDeviceDir, loadMerged, type DeviceFileKind } from './device-files.js';
import { loadScannerProfile } from '../drivers/serial/profile.js';
import { loadScaleProfile } from '../drivers/mqtt-scale/profile.js';
import { loadNodeMap } from '../drivers/opcua/nodemap.js';
import { loadPrinterModels, loadTemplates } from '../labels/template.js';
import { isLgError } from '../errors.js';
import { loadValueProfile } from '../drivers/mqtt-values/profile.js';
import { valueSpecIssues } from './devices/process-values.js';

type Dev = Record<string, unknown> & { id: string; kind: string; enabled?: boolean };

function detailOf(err: unknown): string {
  if (isLgError(err)) return String(err.details.detail ?? err.message);
  return (err as Error).message;
}

export function deviceChecks(cfg: Config, issues: ConfigIssue[], packagedDir?: string): void {
  const dirs = deviceSearchPath(cfg.profiles?.siteDir, packagedDir);
  const where = (kind: DeviceFileKind): string => dirs.map((d) => `${d}/${kind}`).join(', ');
  const unknown = (path: string, what: string, kind: DeviceFileKind, name: string): void => {
    const known = deviceFileNames(dirs, kind);
    issues.push({ path, message: `unknown ${what} "${name}" (known: ${known.join(', ') || 'none'}; searched ${where(kind)})` });
  };

  let printerModels: Map<string, unknown> | null = null;
  let templates: Map<string, unknown> | null = null;
  const loadOnce = <T>(kind: DeviceFileKind, path: string, load: (dir: string) => Map<string, T>): Map<string, T> | null => {
    try {
      return loadMerged(dirs, kind, load);
    } catch (err) {
      issues.push({ path, message: `${kind}: ${detailOf(err)}` });
      return new Map();
    }
  };

  const serialPaths = new Map<string, string>();
  (cfg.devices as Dev[]).forEach((d, i) => {
    const at = `devices[${i}]`;
    // Two devices on one serial path (whatever their kind, enabled or not: both would be started
    // the day someone enables the second) fight over the port; the second never opens.
    const t = d.transport as { type?: string; path?: string } | undefined;
    if (t && (t.type === 'serial' || t.type === 'file') && typeof t.path === 'string') {
      let key = resolve(t.path);
      try {
        key = realpathSync(t.path);
      } catch {
        /* not plugged in now: compare the written path */
      }
      const first = serialPaths.get(key);
      if (first) issues.push({ path: `${at}.transport.path`, message: `${t.path} is already used by ${first}; one serial port serves one device` });
      else serialPaths.set(key, `devices[${i}] (${d.id})`);
    }

    if (d.kind === 'serial-scanner') {
      const name = (d.profile as string | undefined) ?? 'generic-usb-cdc';
      const dir = findDeviceDir(dirs, 'scanners', name);
      if (!dir) return unknown(`${at}.profile`, 'scanner profile', 'scanners', name);
      const ov = d.overrides as { terminator?: string; interCharTimeoutMs?: number } | undefined;
      if (ov?.terminator === 'none' && ov.interCharTimeoutMs === undefined) {
        issues.push({ path: `${at}.overrides.interCharTimeoutMs`, message: 'terminator none needs interCharTimeoutMs (how long a silence ends a scan)' });
        return;
      }
      try {
        loadScannerProfile(dir, name, { device: d.id, ...(d.overrides !== undefined ? { overrides: d.overrides } : {}) });
      } catch (err) {
        issues.push({ path: d.overrides !== undefined ? `${at}.overrides` : `${at}.profile`, message: `scanner profile "${name}": ${detailOf(err)}` });
      }
    } else if (d.kind === 'mqtt-scale') {
      const name = d.profile as string;
      const dir = findDeviceDir(dirs, 'scales', name);
      if (!dir) return unknown(`${at}.profile`, 'scale profile', 'scales', name);
      try {
        loadScaleProfile(dir, name, { device: d.id, ...(d.overrides ? { overrides: d.overrides as Record<string, unknown> } : {}) });
      } catch (err) {
        issues.push({ path: d.overrides ? `${at}.overrides` : `${at}.profile`, message: `scale profile "${name}": ${detailOf(err)}` });
      }
    } else if (d.kind === 'opcua-machine') {
      if (Array.isArray(d.values)) issues.push(...valueSpecIssues(d.values as never[], at));
      const name = d.nodeMap as string;
      const dir = findDeviceDir(dirs, 'machines', name);
      if (!dir) return unknown(`${at}.nodeMap`, 'node map', 'machines', name);
      try {
        loadNodeMap(dir, name, d.id, {
          ...(d.nodes ? { nodes: d.nodes as never } : {}),
          ...(d.mapParameters ? { mapParameters: d.mapParameters as Record<string, string> } : {}),
        });
      } catch (err) {
        issues.push({ path: `${at}.nodeMap`, message: `node map "${name}": ${detailOf(err)}` });
      }
    } else if (d.kind === 'mqtt-values') {
      issues.push(...valueSpecIssues(d.values as never[], at));
      const name = (d.profile as string | undefined) ?? 'plain-number';
      const dir = findDeviceDir(dirs, 'values', name);
      if (!dir) return unknown(`${at}.profile`, 'value profile', 'values', name);
      try {
        loadValueProfile(dir, name, d.id);
      } catch (err) {
        issues.push({ path: `${at}.profile`, message: `value profile "${name}": ${detailOf(err)}` });
      }
    } else if (d.kind === 'zpl-printer') {
      printerModels ??= loadOnce('printers', `${at}.model`, loadPrinterModels);
      templates ??= loadOnce('labels', `${at}.templates`, loadTemplates);
      const model = (d.model as string | undefined) ?? 'zebra-203dpi-4in';
      if (!printerModels!.has(model)) unknown(`${at}.model`, 'printer model', 'printers', model);
      for (const [kind, tpl] of Object.entries((d.templates as Record<string, string> | undefined) ?? {})) {
        if (!templates!.has(tpl)) unknown(`${at}.templates.${kind}`, 'label template', 'labels', tpl);
      }
    }
  });
}
