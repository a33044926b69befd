// Dockerfile and .dockerignore. No Docker engine runs here and Debian has no
// hadolint package (`apt-cache policy hadolint` finds none), so this checks the
// essentials by parsing: stages, pinned bases, production-only dependencies, a
// non-root USER, the HEALTHCHECK (and runs its command against a live exporter),
// EXPOSE, no remote ADD, OCI labels, ENTRYPOINT/CMD, and that what the image
// copies exists and is not excluded from the build context.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../support/prometheus.js';
import { startTestExporter, type TestExporter } from '../../support/exporter.js';

const run = promisify(execFile);

interface Instruction {
  op: string;
  args: string;
  line: number;
}
interface Stage {
  from: string;
  name?: string;
  body: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    const start = i + 1;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    assert.ok(m, `line ${start}: not an instruction: ${line}`);
    const ins = { op: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start };
    if (ins.op === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      assert.ok(f, `line ${start}: FROM ${ins.args}`);
      stages.push({ from: f[1]!, name: f[2], body: [] });
    } else {
      assert.ok(stages.length > 0, `line ${start}: ${ins.op} before FROM`);
      stages.at(-1)!.body.push(ins);
    }
  }
  return stages;
}

const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const final = stages.at(-1)!;
const ops = (stage: Stage, op: string) => stage.body.filter((i) => i.op === op);
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

test('hadolint is not packaged in Debian, so the essentials are checked here', async () => {
  const policy = await run('apt-cache', ['policy', 'hadolint']).then(
    (r) => r.stdout,
    () => '',
  );
  assert.doesNotMatch(policy, /Candidate: \d/, 'hadolint became installable: lint the Dockerfile with it instead');
});

test('a multi-stage build: npm ci and npm run build, then production dependencies only', () => {
  assert.ok(stages.length >= 2, 'at least a build and a runtime stage');
  const build = stages.find((s) => ops(s, 'RUN').some((r) => /npm run build/.test(r.args)));
  assert.ok(build?.name, 'a named build stage runs npm run build');
  assert.ok(
    ops(build, 'RUN').some((r) => /\bnpm ci\b/.test(r.args) && !/--omit=dev/.test(r.args)),
    'the build stage installs with npm ci',
  );
  const prod = stages.find((s) => ops(s, 'RUN').some((r) => /\bnpm ci\b.*--omit=dev/.test(r.args)));
  assert.ok(prod, 'some stage runs npm ci --omit=dev');
  const copies = ops(final, 'COPY').map((c) => c.args);
  const fromProd = prod === final || copies.some((c) => new RegExp(`--from=${prod.name}\\s+\\S*node_modules`).test(c));
  assert.ok(fromProd, 'the runtime stage gets node_modules from the --omit=dev install');
  assert.ok(
    copies.some((c) => new RegExp(`--from=${build.name}\\s+\\S*dist`).test(c)),
    'the runtime stage gets dist/ from the build stage',
  );
  assert.ok(!copies.some((c) => /^(?!--from)\S*\bsrc\b/.test(c)), 'no TypeScript sources in the runtime image');
});

test('every base image is pinned to a major version; the runtime is node slim or distroless', () => {
  for (const s of stages) {
    if (stages.some((x) => x.name === s.from)) continue; // FROM an earlier stage
    assert.match(s.from, /^[a-z0-9./-]+:[^:]+$/, `FROM ${s.from} has a tag`);
    assert.doesNotMatch(s.from, /:latest$/, `FROM ${s.from} is not :latest`);
    assert.match(s.from.split(':')[1]!, /^\d+/, `FROM ${s.from} starts with a major version`);
  }
  assert.match(final.from, /^(node:\d+-slim|gcr\.io\/distroless\/nodejs\d+-debian\d+(:\S+)?)/);
});

test('the runtime runs as a non-root user', () => {
  const users = ops(final, 'USER');
  assert.equal(users.length, 1);
  const user = users[0]!.args.split(':')[0]!;
  assert.ok(!['root', '0'].includes(user), `USER ${user}`);
  assert.match(user, /^\d+$/, 'numeric, so Kubernetes can check runAsNonRoot');
});

test('EXPOSE is the default listen port and HEALTHCHECK asks /-/healthy with node', () => {
  const flags = readFileSync(join(REPO_ROOT, 'src/cli/flags.ts'), 'utf8');
  const port = /'web\.listen-address': \{[^}]*default: ':(\d+)'/.exec(flags)?.[1];
  assert.ok(port, 'the default listen port in src/cli/flags.ts');
  assert.deepEqual(
    ops(final, 'EXPOSE').map((e) => e.args),
    [port],
  );
  const hc = ops(final, 'HEALTHCHECK');
  assert.equal(hc.length, 1);
  assert.match(hc[0]!.args, /CMD \["node", "-e", /);
  assert.match(hc[0]!.args, new RegExp(`127\\.0\\.0\\.1:${port}/-/healthy`));
  assert.doesNotMatch(dockerfile, /\b(curl|wget)\b/, 'slim images have neither');
});

test('no ADD of remote URLs (no ADD at all), OCI labels, ENTRYPOINT and CMD', () => {
  for (const s of stages) {
    for (const a of ops(s, 'ADD')) assert.doesNotMatch(a.args, /https?:\/\/|git@/, `line ${a.line}`);
  }
  assert.equal(stages.flatMap((s) => ops(s, 'ADD')).length, 0, 'COPY does all the copying');
  const labels = ops(final, 'LABEL')
    .map((l) => l.args)
    .join(' ');
  for (const key of ['title', 'description', 'version', 'revision', 'licenses']) {
    assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${key}=`), key);
  }
  assert.deepEqual(JSON.parse(ops(final, 'ENTRYPOINT')[0]!.args), ['node', 'dist/vpn-exporter.mjs']);
  assert.deepEqual(JSON.parse(ops(final, 'CMD')[0]!.args), ['--config.file=/etc/vpn-exporter/modules.yaml']);
});

test('what the image copies from the context exists and .dockerignore does not exclude it', () => {
  const ignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const must of ['node_modules', 'dist', '.git']) assert.ok(ignore.includes(must), `.dockerignore excludes ${must}`);
  for (const s of stages) {
    for (const c of ops(s, 'COPY')) {
      if (/--from=/.test(c.args)) continue;
      const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) {
        assert.ok(existsSync(join(REPO_ROOT, src)), `COPY ${src}: not in the repository`);
        assert.ok(!ignore.some((pattern) => src === pattern || src.startsWith(`${pattern}/`)), `COPY ${src} is excluded by .dockerignore`);
      }
    }
  }
});

test('ENTRYPOINT dist/vpn-exporter.mjs is the launcher npm run build writes beside the bundle of src/main.ts', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
  assert.match(pkg.scripts.build!, /scripts\/bundle-exporter\.ts/);
  const script = readFileSync(join(REPO_ROOT, 'scripts/bundle-exporter.ts'), 'utf8');
  assert.match(script, /entryPoints: \['src\/main\.ts'\]/);
  assert.match(script, /entryPoints: \['src\/cli\/launcher\.ts'\]/);
  assert.match(script, /LAUNCHER_FROM_ROOT = 'dist\/vpn-exporter\.mjs'/);
  assert.equal(pkg.bin['vpn-exporter'], 'dist/vpn-exporter.mjs');
  assert.ok(existsSync(join(REPO_ROOT, 'src/main.ts')));
});

test('everything src/ imports at run time is a production dependency or a Node built-in', () => {
  const builtins = new Set(builtinModules);
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
    });
  // The one exception: esbuild, loaded by dynamic import only when the exporter runs from
  // source; compiled, it serves the bundle `npm run build` wrote and never imports it.
  const fromSourceOnly: Record<string, string> = { esbuild: join(REPO_ROOT, 'src/web/client-bundle.ts') };
  const used = new Set<string>();
  for (const file of walk(join(REPO_ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(import|export)\s+(?!type\b)[^'";]*?from\s+['"]([^'"]+)['"]/gm)) used.add(m[2]!);
    for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      if (fromSourceOnly[m[1]!] !== file) used.add(m[1]!);
    }
  }
  for (const spec of used) {
    if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec)) continue;
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    assert.ok(
      name in pkg.dependencies,
      `src imports ${spec}, but ${name} is ${name in pkg.devDependencies ? 'a devDependency' : 'not a dependency'}: npm ci --omit=dev leaves it out`,
    );
  }
});

let exporter: TestExporter;
before(async () => {
  exporter = await startTestExporter('modules: {}\n');
});
after(async () => {
  await exporter.close();
});

test('the HEALTHCHECK command exits 0 against a live exporter and 1 when nothing listens', async () => {
  const args = JSON.parse(/CMD (\[.*\])$/.exec(ops(final, 'HEALTHCHECK')[0]!.args)![1]!) as string[];
  assert.equal(args[0], 'node');
  const script = args[2]!;
  const live = script.replace('127.0.0.1:9234', new URL(exporter.url).host);
  await run(process.execPath, ['-e', live], { timeout: 10_000 });
  const dead = script.replace('127.0.0.1:9234', '127.0.0.1:1');
  await assert.rejects(run(process.execPath, ['-e', dead], { timeout: 10_000 }), (err: { code?: number }) => err.code === 1);
});
