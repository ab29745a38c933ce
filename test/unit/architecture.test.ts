/**
 * ARCHITECTURE.md, "Readings are the contract" (issue 13): drivers produce readings, binders consume
 * them, and the pure core — src/binding/, src/domain/ and src/readings/ (the reading types and the
 * pure conversions on them) — never imports from src/drivers/. The imports are read from the
 * TypeScript syntax tree (static, type-only, re-exports, dynamic `import()`, `import()` types and
 * `require`), not matched with a regular expression, so no form of import slips past.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');
const DRIVERS = join(SRC, 'drivers');
const PURE = ['binding', 'domain', 'readings'];

/** Every module specifier a TypeScript source names. */
function moduleSpecifiers(fileName: string, text: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteralLike(n.moduleSpecifier)) {
      out.push(n.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference) && ts.isStringLiteralLike(n.moduleReference.expression)) {
      out.push(n.moduleReference.expression.text);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteralLike(n.argument.literal)) {
      out.push(n.argument.literal.text);
    } else if (ts.isCallExpression(n) && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) {
      const a = n.arguments[0];
      out.push(a && ts.isStringLiteralLike(a) ? a.text : '<computed>');
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Whether a specifier written in `fromFile` points into src/drivers/ (or cannot be checked). */
function reachesDrivers(fromFile: string, spec: string): boolean {
  if (spec === '<computed>') return true; // a computed import cannot be checked: not allowed in the core
  if (spec.startsWith('.') || spec.startsWith('/')) {
    const target = resolve(dirname(fromFile), spec);
    const rel = relative(DRIVERS, target);
    return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
  }
  return /(^|\/)src\/drivers(\/|$)/.test(spec);
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return /\.(c|m)?tsx?$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

function violations(files: string[]): string[] {
  return files.flatMap((f) =>
    moduleSpecifiers(f, readFileSync(f, 'utf8'))
      .filter((spec) => reachesDrivers(f, spec))
      .map((spec) => `${relative(ROOT, f)} imports ${spec}`),
  );
}

describe('architecture: readings are the contract', () => {
  it('13 no file under src/binding/, src/domain/ or src/readings/ imports from src/drivers/', () => {
    const files = PURE.flatMap((d) => tsFiles(join(SRC, d)));
    expect(violations(files)).toEqual([]);
    // The scan reads the real tree: the binders and the reading contract are among the files, and
    // the binders' imports of the contract are seen (so an empty or broken scan cannot pass).
    for (const f of ['binding/weight.ts', 'binding/machine.ts', 'readings/reading.ts', 'readings/units.ts', 'readings/packml.ts']) {
      expect(files).toContain(join(SRC, f));
    }
    expect(moduleSpecifiers('weight.ts', readFileSync(join(SRC, 'binding/weight.ts'), 'utf8'))).toEqual(
      expect.arrayContaining(['../readings/reading.js', '../readings/units.js']),
    );
    expect(moduleSpecifiers('machine.ts', readFileSync(join(SRC, 'binding/machine.ts'), 'utf8'))).toEqual(
      expect.arrayContaining(['../readings/reading.js', '../readings/packml.js']),
    );
  });

  it('13 the import check sees every form of import into src/drivers/ and nothing else', () => {
    const file = join(SRC, 'binding', 'probe.ts');
    const text = [
      "import { a } from '../drivers/driver.js';",
      "import type { B } from '../drivers/mqtt-scale/units.js';",
      "import '../drivers/opcua/index.js';",
      "export { c } from '../drivers/serial/framer.js';",
      "export * from '../drivers';",
      "import x = require('../drivers/registry.js');",
      "type T = typeof import('../drivers/opcua/packml.js');",
      "const m = await import('../drivers/serial/index.js');",
      'const n = await import(name);',
      "import { d } from 'linegate/src/drivers/driver.js';",
      // Not into drivers: the core, a sibling folder whose name merely starts the same way, a package.
      "import { e } from '../readings/reading.js';",
      "import { f } from '../drivers-docs/x.js';",
      "import { g } from './drivers.js';",
      "import { h } from 'node:events';",
    ].join('\n');
    const specs = moduleSpecifiers(file, text);
    expect(specs).toHaveLength(14);
    const flagged = specs.filter((s) => reachesDrivers(file, s));
    expect(flagged).toEqual([
      '../drivers/driver.js',
      '../drivers/mqtt-scale/units.js',
      '../drivers/opcua/index.js',
      '../drivers/serial/framer.js',
      '../drivers',
      '../drivers/registry.js',
      '../drivers/opcua/packml.js',
      '../drivers/serial/index.js',
      '<computed>',
      'linegate/src/drivers/driver.js',
    ]);
  });
});
