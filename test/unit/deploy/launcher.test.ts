// The built exporter as `node dist/vpn-exporter.mjs` runs it: the launcher compiles the
// CommonJS server bundle with the V8 code cache the build wrote (src/cli/launcher.ts,
// scripts/bundle-exporter.ts). Built here into a folder of its own inside the repository,
// where the bundle finds node_modules (ssh2) and package.json as it does from dist/.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../support/prometheus.js';
import { startHostileSsh, type HostileSsh } from '../../support/hostile-ssh.js';

const run = promisify(execFile);
let dir: string;
let out: string;
let ssh: HostileSsh;

before(async () => {
  dir = await mkdtemp(join(REPO_ROOT, '.build-test-'));
  out = join(dir, 'dist');
  ssh = await startHostileSsh('kbd-only', 'right-password');
  await run(process.execPath, ['--import', 'tsx', 'scripts/bundle-exporter.ts', out], { cwd: REPO_ROOT, timeout: 240_000 });
});
after(async () => {
  await ssh?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function version(): Promise<string> {
  return (await run(process.execPath, [join(out, 'vpn-exporter.mjs'), '--version'], { timeout: 60_000 })).stdout;
}

/** Starts the built exporter on a free port; resolves with its URL once it says it listens. */
async function start(config: string): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const file = join(dir, 'modules.yaml');
  await writeFile(file, config);
  const child = spawn(process.execPath, [join(out, 'vpn-exporter.mjs'), `--config.file=${file}`, '--web.listen-address=127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((found, failed) => {
    const timer = setTimeout(() => failed(new Error(`no "listening" within 60 s:\n${output}`)), 60_000);
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /address=(127\.0\.0\.1:\d+).*msg=listening/.exec(output);
      if (m) {
        clearTimeout(timer);
        found(`http://${m[1]}`);
      }
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.once('exit', (code) => failed(new Error(`exited (${code}) before listening:\n${output}`)));
  });
  return { url, child, output: () => output };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.kill('SIGTERM');
  return exited;
}

test('the build writes a code cache that the launcher takes', async () => {
  assert.match(await version(), /^vpn-exporter \S+ \(revision \S+, node v[\d.]+, code cache used\)\n$/);
  const bundle = await readFile(join(out, 'server.cjs'));
  assert.equal(
    bundle.findIndex((b) => b > 0x7f),
    -1,
    'pure ASCII, as the launcher reads it as latin1',
  );
});

test('built, the exporter serves, and loads ssh2 for an SSH probe after it listens', async () => {
  const config =
    'modules:\n  ovpn:\n    prober: openvpn-ssh\n    timeout: 20s\n    ssh:\n      username: probe\n      password: wrong-password\n' +
    `      host_key_fingerprints: ["${ssh.hostKeyFingerprint}"]\n    status_files: [{name: s, path: /tmp/s}]\n`;
  const { url, child, output } = await start(config);
  try {
    assert.equal((await fetch(`${url}/-/healthy`)).status, 200);
    assert.match(await (await fetch(`${url}/metrics`)).text(), /^vpn_exporter_build_info\{/m);
    // A real SSH handshake through the bundle's lazily loaded ssh2: the server refuses the password.
    const body = await (await fetch(`${url}/probe?module=ovpn&target=127.0.0.1:${ssh.port}`)).text();
    assert.match(body, /^probe_success 0$/m);
    assert.match(body, /^probe_failure_info\{reason="auth_failed"\} 1$/m, body);
    assert.doesNotMatch(output(), /cannot load ssh2/);
  } finally {
    assert.equal(await stop(child), 0);
  }
});

test('a missing or refused cache is no error: the exporter compiles from source and says so', async () => {
  const cache = join(out, 'server.code-cache');
  const good = await readFile(cache);
  try {
    // A cache for other source or another V8 fails V8's checks; garbage stands in for both.
    await writeFile(cache, Buffer.alloc(good.length, 0x5a));
    assert.match(await version(), /code cache refused\)/);
    const { url, child } = await start('modules: {}\n');
    try {
      assert.equal((await fetch(`${url}/-/healthy`)).status, 200);
    } finally {
      assert.equal(await stop(child), 0);
    }
    await rm(cache);
    assert.match(await version(), /code cache missing\)/);
  } finally {
    await writeFile(cache, good);
  }
  assert.match(await version(), /code cache used\)/);
});
