// The import rule of src/ (README, "Design"), read from the source's import lines, type-only
// imports and re-exports included, so the layering cannot erode one convenient import at a time.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../support/prometheus.js';

const SRC = join(REPO_ROOT, 'src');

/** Top-level files of src/: they compose the process and may import anything. */
const ENTRY_POINTS = new Set(['main.ts', 'server.ts', 'probers.ts', 'version.ts']);

/**
 * What each folder may import besides itself. Everything not listed is forbidden;
 * `probe/prober.ts` is the one file of probe/ that vendors see.
 */
const ALLOWED: Record<string, readonly string[]> = {
  model: [],
  util: ['model'],
  log: ['util'],
  cli: ['log', 'util'],
  transport: ['util', 'log'],
  exposition: ['model', 'transport', 'util', 'log'],
  config: ['transport', 'exposition', 'model', 'util', 'log'],
  probe: ['config', 'exposition', 'model', 'transport', 'util', 'log'],
  vendors: ['transport', 'model', 'exposition', 'config', 'util', 'log', 'probe/prober.ts'],
  web: ['probe', 'config', 'exposition', 'model', 'transport', 'util', 'log'],
};

interface Import {
  from: string;
  to: string;
  line: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const abs = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(abs);
    return e.name.endsWith('.ts') ? [abs] : [];
  });
}

const SPECIFIER = /^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** Every import of one file: relative ones resolved to a path under src/, packages by name. */
function importsOf(file: string, text: string): Import[] {
  const out: Import[] = [];
  // Statements may span lines (`import {\n a,\n b\n} from '…'`): match on the whole text.
  const flat = text.replace(/\{[^}]*\}/g, (m) => m.replace(/\n/g, ' '));
  for (const m of flat.matchAll(SPECIFIER)) {
    const spec = (m[1] ?? m[2] ?? m[3]) as string;
    const to = spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts') : `package:${spec}`;
    out.push({ from: relative(SRC, file), to, line: m[0].trim().slice(0, 120) });
  }
  return out;
}

const folderOf = (path: string) => (path.includes('/') ? (path.split('/')[0] as string) : '');

/** The rule's verdict on one import, or undefined when it is allowed. */
function violation({ from, to }: Import): string | undefined {
  const src = folderOf(from);
  if (to.startsWith('package:')) {
    const pkg = to.slice('package:'.length);
    if ((pkg === 'hono' || pkg.startsWith('hono/') || pkg.startsWith('@hono/')) && src !== 'web' && src !== '')
      return 'only web/ and the entry points import hono';
    return undefined;
  }
  const dst = folderOf(to);
  if (src === '' || src === dst) {
    if (src === 'vendors' && to.split('/')[1] !== from.split('/')[1]) return 'a vendor imports no other vendor';
    return undefined;
  }
  if (dst === '') return `${src}/ imports an entry point (${to})`;
  const allowed = ALLOWED[src];
  if (!allowed) return `${src}/ is not a known folder of the design`;
  if (allowed.includes(dst) || allowed.includes(to)) return undefined;
  return `${src}/ may not import ${dst}/ (${to})`;
}

/** Folder-level cycles: a path from a folder back to itself. */
function cycles(edges: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  const visit = (start: string, node: string, path: string[]) => {
    for (const next of edges.get(node) ?? []) {
      if (next === start) found.push([...path, next].join(' -> '));
      else if (!path.includes(next)) visit(start, next, [...path, next]);
    }
  };
  for (const start of edges.keys()) visit(start, start, [start]);
  return found;
}

function folderEdges(imports: readonly Import[]): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const i of imports) {
    const a = folderOf(i.from);
    const b = i.to.startsWith('package:') ? '' : folderOf(i.to);
    if (a === '' || b === '' || a === b) continue;
    if (!edges.has(a)) edges.set(a, new Set());
    edges.get(a)?.add(b);
  }
  return edges;
}

const imports = sourceFiles(SRC).flatMap((f) => importsOf(f, readFileSync(f, 'utf8')));

test('the import lines of src/ were read (type-only imports and re-exports included)', () => {
  assert.ok(imports.length > 200, `${imports.length} imports`);
  assert.ok(
    imports.some((i) => /^import type\b/.test(i.line)),
    'type-only imports are read',
  );
  assert.ok(
    imports.some((i) => i.from.startsWith('vendors/') && i.to === 'probe/prober.ts'),
    'vendors reach the prober interface',
  );
});

test('the checker itself refuses what the rule forbids', () => {
  const bad: Import[] = [
    { from: 'model/snapshot.ts', to: 'util/errors.ts', line: '' },
    { from: 'transport/ssh/pool.ts', to: 'config/secret.ts', line: '' },
    { from: 'vendors/openvpn/ssh.ts', to: 'probe/service.ts', line: '' },
    { from: 'vendors/openvpn/ssh.ts', to: 'web/app.ts', line: '' },
    { from: 'vendors/openvpn/ssh.ts', to: 'vendors/strongswan/snapshot.ts', line: '' },
    { from: 'exposition/core.ts', to: 'vendors/strongswan/metrics.ts', line: '' },
    { from: 'config/modules.ts', to: 'probe/prober.ts', line: '' },
    { from: 'probe/service.ts', to: 'vendors/strongswan/vici-tcp.ts', line: '' },
    { from: 'probe/service.ts', to: 'web/app.ts', line: '' },
    { from: 'probe/service.ts', to: 'package:hono', line: '' },
    { from: 'exposition/core.ts', to: 'server.ts', line: '' },
  ];
  for (const i of bad) assert.notEqual(violation(i), undefined, `${i.from} -> ${i.to}`);
  assert.equal(violation({ from: 'web/app.ts', to: 'package:hono', line: '' }), undefined);
  assert.equal(violation({ from: 'server.ts', to: 'web/app.ts', line: '' }), undefined);
  const looped = folderEdges([
    { from: 'config/a.ts', to: 'probe/b.ts', line: '' },
    { from: 'probe/b.ts', to: 'config/a.ts', line: '' },
  ]);
  assert.deepEqual(cycles(looped).sort(), ['config -> probe -> config', 'probe -> config -> probe']);
});

test('every import of src/ keeps the rule', () => {
  const broken = imports.flatMap((i) => {
    const why = violation(i);
    return why ? [`${i.from}: ${why}\n    ${i.line}`] : [];
  });
  assert.deepEqual(broken, []);
});

test('the top-level files of src/ are the entry points, nothing else', () => {
  const topLevel = readdirSync(SRC, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => e.name);
  assert.deepEqual(
    topLevel.filter((f) => !ENTRY_POINTS.has(f)),
    [],
  );
});

test('no cycles between the top-level folders of src/', () => {
  assert.deepEqual(cycles(folderEdges(imports)), []);
});
