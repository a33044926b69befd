import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { userHasher } from '../../../src/exposition/privacy.js';
import { charonCommands } from '../../support/charon-like.js';
import { startTestExporter, type TestExporter } from '../../support/exporter.js';
import { samples } from '../../support/exposition.js';
import { startViciServer, type ScriptedViciServer } from '../../support/vici-server.js';

/*
 * user_labels against a charon-like VICI server with 40 road warriors: the hash key, a new
 * kind of secret, in every form worth looking for, is searched for in every channel the
 * exporter answers or writes on; and with hashed or dropped labels, so are the users' names.
 */

const INLINE_KEY = 'inline-user-hash-key-4f1e0c9b7a';
const ENV_KEY = 'env-user-hash-key-82d6a1c3e5f7';
const FILE_KEY = 'file-user-hash-key-c0ffee123456';
const KEY_ENV = 'VPNX_USER_HASH_KEY_TEST';

let vici: ScriptedViciServer;
let exporter: TestExporter;
let dir: string;
let target: string;

const needles = new Map<string, string>();
for (const [label, key] of [
  ['inline key', INLINE_KEY],
  ['env key', ENV_KEY],
  ['file key', FILE_KEY],
] as const) {
  needles.set(label, key);
  needles.set(`${label} (base64)`, Buffer.from(key).toString('base64').replace(/=+$/, ''));
  needles.set(`${label} (hex)`, Buffer.from(key).toString('hex'));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpnx-user-hash-'));
  const keyFile = join(dir, 'user-hash-key');
  writeFileSync(keyFile, `${FILE_KEY}\n`, { mode: 0o600 });
  process.env[KEY_ENV] = ENV_KEY;
  // 40 IKE_SAs, 99 of 100 EAP road warriors (user<i>@eap.example) on one conn.
  vici = await startViciServer({ commands: charonCommands({ sas: 40, conns: 3, mix: 'concentrator' }) });
  target = `127.0.0.1:${vici.port}`;
  exporter = await startTestExporter(`modules:
  plain:
    prober: strongswan-vici-tcp
  hashed_inline:
    prober: strongswan-vici-tcp
    user_labels: hashed
    user_hash_key: ${INLINE_KEY}
  hashed_env:
    prober: strongswan-vici-tcp
    detail: users
    user_labels: hashed
    user_hash_key: {env: ${KEY_ENV}}
    max_users: 5
  hashed_file:
    prober: strongswan-vici-tcp
    user_labels: hashed
    user_hash_key: {file: ${keyFile}}
  dropped:
    prober: strongswan-vici-tcp
    user_labels: dropped
  tunnels:
    prober: strongswan-vici-tcp
    detail: tunnels
`);
});

after(async () => {
  await exporter?.close();
  await vici?.close();
  delete process.env[KEY_ENV];
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every answer the exporter gives about one module's probe, and the pages beside them. */
async function outputsOf(module: string): Promise<{ where: string; text: string }[]> {
  const q = `target=${encodeURIComponent(target)}&module=${module}`;
  const out: { where: string; text: string }[] = [];
  for (const path of [`/probe?${q}`, `/probe?${q}&debug=true`, `/api/probe?${q}`, `/sessions?${q}`, `/sessions.html?${q}`]) {
    const res = await exporter.get(path);
    out.push({ where: path, text: await res.text() });
  }
  const api = JSON.parse(out[2]?.text ?? '{}') as { id: number };
  for (const path of ['/history', `/logs?id=${api.id}`, '/config', '/metrics', `/?${q}`]) {
    out.push({ where: path, text: await (await exporter.get(path)).text() });
  }
  return out;
}

describe('user_labels', () => {
  it('the hash key, from inline, env or file, is in no answer, page, log line or the configuration', async () => {
    const all: { where: string; text: string }[] = [];
    for (const m of ['hashed_inline', 'hashed_env', 'hashed_file']) all.push(...(await outputsOf(m)));
    all.push({ where: 'exporter log', text: exporter.logs.join('\n') });
    for (const { where, text } of all) {
      for (const [label, needle] of needles) assert.ok(!text.includes(needle), `${label} found in ${where}`);
    }
    assert.match(all.find((o) => o.where === '/config')?.text ?? '', /&lt;secret&gt;|<secret>/);
  });

  it('hashed: no user name in metrics, JSON, pages or logs; the users are there as their pseudonyms', async () => {
    const outputs = await outputsOf('hashed_inline');
    outputs.push({ where: 'exporter log', text: exporter.logs.join('\n') });
    for (const { where, text } of outputs) assert.doesNotMatch(text, /user\d+@eap\.example/, where);
    const hash = userHasher(INLINE_KEY);
    const metrics = outputs[0]?.text ?? '';
    const users = samples(metrics, 'vpn_user_sessions').map((s) => s.labels.user);
    assert.ok(users.includes(hash('user1@eap.example')), 'user1 is followed by its pseudonym');
    const sessions = JSON.parse(outputs[3]?.text ?? '[]') as { user: string; remotehost: string }[];
    assert.ok(sessions.some((s) => s.user === hash('user1@eap.example')));
    assert.ok(
      sessions.every((s) => s.remotehost === ''),
      'no public address of a user',
    );
  });

  it('dropped: no user series and no name anywhere', async () => {
    const outputs = await outputsOf('dropped');
    for (const { where, text } of outputs) assert.doesNotMatch(text, /user\d+@eap\.example|remote-id-user|user\d+"/, where);
    assert.doesNotMatch(outputs[0]?.text ?? '', /^vpn_user_/m);
    assert.match(outputs[0]?.text ?? '', /^vpn_tunnel_up\{/m);
  });

  it('the plain module is unchanged: names as charon gives them', async () => {
    const text = await (await exporter.get(`/probe?target=${target}&module=plain`)).text();
    assert.ok(samples(text, 'vpn_user_sessions').some((s) => s.labels.user === 'user1@eap.example'));
  });
});

describe('series count', () => {
  it('/api/probe, the debug output, /history and the log line give the number of sample lines of the answer', async () => {
    for (const module of ['plain', 'tunnels', 'hashed_env']) {
      const api = (await (await exporter.get(`/api/probe?target=${target}&module=${module}`)).json()) as { id: number; series: number; metrics: string };
      const lines = api.metrics.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
      assert.equal(api.series, lines, module);
      const debug = await (await exporter.get(`/probe?target=${target}&module=${module}&debug=true`)).text();
      const shown = /^Series: (\d+) \(detail (\w+)/m.exec(debug);
      assert.equal(Number(shown?.[1]), lines, `${module} debug`);
      assert.match(debug, new RegExp(`probe succeeded .*series=${lines}`));
      const history = await (await exporter.get('/history')).text();
      assert.match(history, new RegExp(`data-label="Series">${lines}</td>`), `${module} in /history`);
    }
    const tunnels = (await (await exporter.get(`/api/probe?target=${target}&module=tunnels`)).json()) as { series: number };
    const plain = (await (await exporter.get(`/api/probe?target=${target}&module=plain`)).json()) as { series: number };
    assert.ok(tunnels.series < plain.series);
    const self = await (await exporter.get('/metrics')).text();
    assert.ok((samples(self, 'vpn_exporter_probe_series_count').find((s) => s.labels.module === 'plain')?.value ?? 0) >= 2);
  });

  it('max_users: 5 keeps five users and one overflow series, counted', async () => {
    const text = await (await exporter.get(`/probe?target=${target}&module=hashed_env`)).text();
    const users = samples(text, 'vpn_user_sessions');
    assert.equal(users.filter((s) => s.labels.user !== '__overflow__').length, 5);
    assert.equal(
      users.reduce((a, s) => a + s.value, 0),
      40,
    );
    assert.equal(samples(text, 'vpn_users_overflow')[0]?.value, 40 - 5, 'every IKE_SA is a user of its own');
    assert.doesNotMatch(text, /^strongswan_child_sas/m, 'detail: users has no SA families');
  });
});
