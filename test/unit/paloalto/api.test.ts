import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/modules.js';
import { PROBERS } from '../../../src/probers.js';
import { sampleValue, startTestExporter, type TestExporter } from '../../support/exporter.js';
import { samples } from '../../support/exposition.js';
import {
  SCENARIOS,
  VPN_FLOW_ERROR,
  startPanosApiEmulator,
  startPanosEmulator,
  type PanosApiEmulator,
  type PanosEmulator,
  type PanosScenario,
} from '../../support/panos-emulator/index.js';
import { makeTestPki, type TestPki } from '../../support/test-pki.js';
import { waitFor } from '../../support/wait-for.js';

/*
 * The paloalto-api prober end to end: the exporter in this process, its real HTTPS
 * transport, and the XML-API emulator over real TLS on 127.0.0.1, serving the same
 * scenarios as the SSH emulator. Both probers must agree series for series.
 */

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

/** Scenarios probed by both probers; `haRefused` refuses the HA command on both. */
const SHARED = {
  allActive: SCENARIOS.allActive,
  someInactive: SCENARIOS.someInactive,
  oneInit: SCENARIOS.oneInit,
  longName: SCENARIOS.longName,
  zeroTunnels: SCENARIOS.zeroTunnels,
  haActive: SCENARIOS.haActive,
  haPassive: SCENARIOS.haPassive,
  proxyIds: SCENARIOS.proxyIds,
  globalProtect: SCENARIOS.globalProtect,
  noGlobalProtect: SCENARIOS.noGlobalProtect,
  slowDevice: SCENARIOS.slowDevice,
  haRefused: { ...SCENARIOS.haActive, faults: { refuse: { 'show high-availability state': 'Server error : permission denied' } } },
} satisfies Record<string, PanosScenario>;
type Shared = keyof typeof SHARED;

/** API-only devices, each with its own counters. */
const API_ONLY = {
  keygen: SCENARIOS.globalProtect,
  keygenExpiry: SCENARIOS.allActive,
  wrongPassword: SCENARIOS.allActive,
  wrongKey: SCENARIOS.allActive,
  vpnFlowError: SCENARIOS.vpnFlowError,
  tls: SCENARIOS.allActive,
} satisfies Record<string, PanosScenario>;

const TIMEOUT_MS = 5000;
const HANG_TIMEOUT_MS = 1000;
const SMALL_BOUND = 64 * 1024;

let pki: TestPki;
let dir: string;
const ssh = {} as Record<Shared, PanosEmulator>;
const api = {} as Record<Shared | keyof typeof API_ONLY, PanosApiEmulator>;
let exporter: TestExporter;

// --- hostile HTTPS servers --------------------------------------------------------------
interface Hostile {
  port: number;
  /** Connections open on the server side now. */
  open: () => number;
  close: () => Promise<void>;
}

async function listen(server: net.Server): Promise<Hostile> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const hostile = {} as Record<'garbage' | 'huge' | 'hang' | 'plainHttp' | 'silentTcp' | 'notPanos', Hostile>;

async function startHostile(): Promise<void> {
  const tls = { cert: readFileSync(pki.server.cert), key: readFileSync(pki.server.key) };
  hostile.garbage = await listen(
    https.createServer(tls, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end('\x00\x01\x02<response status="success"><result><<<garbage');
    }),
  );
  hostile.huge = await listen(
    https.createServer(tls, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      const chunk = `<response status="success"><result>${'<x>y</x>'.repeat(8192)}`;
      let sent = 0;
      const pump = () => {
        while (sent < 64 << 20 && res.write(chunk)) sent += chunk.length;
        if (sent < 64 << 20 && !res.destroyed) res.once('drain', pump);
        else res.end();
      };
      res.on('close', () => {
        sent = Number.POSITIVE_INFINITY;
      });
      pump();
    }),
  );
  // Takes the request and never answers.
  hostile.hang = await listen(https.createServer(tls, () => {}));
  hostile.plainHttp = await listen(http.createServer((_req, res) => res.end('<response status="success"><result/></response>')));
  // Accepts TCP and never speaks TLS.
  // (read and dropped, so the server sees the client's close)
  hostile.silentTcp = await listen(net.createServer((s) => s.resume()));
  // An HTML login page, as a web server that is not PAN-OS answers.
  hostile.notPanos = await listen(
    https.createServer(tls, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Welcome</body></html>');
    }),
  );
}

// --- configuration ----------------------------------------------------------------------
const keyEnv = (name: string) => `VPNX_PANAPI_KEY_${name}`;
const PASSWORD_ENV = 'VPNX_PANAPI_PASSWORD';
const WRONG_KEY = 'LUFRPT-not-a-key-of-this-device-8c1f';
const WRONG_PASSWORD = 'Not-The-Api-Passw0rd';
const WRONG_FINGERPRINT = Array.from({ length: 32 }, () => 'AB').join(':');

function apiModule(name: string, lines: string[], opts: { timeoutMs?: number; extra?: string[] } = {}): string {
  return [
    `  ${name}:`,
    '    prober: paloalto-api',
    `    timeout: ${opts.timeoutMs ?? TIMEOUT_MS}ms`,
    ...(opts.extra ?? []).map((l) => `    ${l}`),
    '    https:',
    ...lines.map((l) => `      ${l}`),
    '',
  ].join('\n');
}

function sshModule(name: string, e: PanosEmulator): string {
  return [
    `  ${name}:`,
    '    prober: paloalto-ssh',
    `    timeout: ${TIMEOUT_MS}ms`,
    '    ssh:',
    `      username: ${e.username}`,
    `      password: {env: ${PASSWORD_ENV}}`,
    `      host_key_fingerprints: ["${e.hostKeyFingerprint}"]`,
    '',
  ].join('\n');
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpnx-panapi-'));
  pki = await makeTestPki(dir);
  const tls = { certFile: pki.server.cert, keyFile: pki.server.key };
  const shared = Object.keys(SHARED) as Shared[];
  await Promise.all(
    shared.map(async (n) => {
      ssh[n] = await startPanosEmulator(SHARED[n]);
      api[n] = await startPanosApiEmulator(SHARED[n], tls);
    }),
  );
  await Promise.all(
    (Object.keys(API_ONLY) as (keyof typeof API_ONLY)[]).map(async (n) => {
      api[n] = await startPanosApiEmulator(API_ONLY[n], tls);
    }),
  );
  await startHostile();
  process.env[PASSWORD_ENV] = SCENARIOS.allActive.password;
  for (const [n, e] of Object.entries(api)) process.env[keyEnv(n)] = e.apiKey;

  const ca = `tls_config: {ca_file: ${pki.ca.cert}}`;
  let yaml = 'auths:\n';
  yaml += `  api_auth:\n    https: {api_key: {env: ${keyEnv('allActive')}}, tls_config: {ca_file: ${pki.ca.cert}}}\n`;
  yaml += `  ssh_auth:\n    ssh: {username: admin, password: {env: ${PASSWORD_ENV}}, host_key_fingerprints: ["${ssh.allActive.hostKeyFingerprint}"]}\n`;
  yaml += 'modules:\n';
  for (const n of shared) {
    yaml += sshModule(`ssh_${n}`, ssh[n]);
    yaml += apiModule(`api_${n}`, [`api_key: {env: ${keyEnv(n)}}`, ca]);
  }
  const login = (pwEnv: string) => ['username: admin', `password: {env: ${pwEnv}}`, ca];
  yaml += apiModule('keygen', login(PASSWORD_ENV));
  yaml += apiModule('keygen_expiry', login(PASSWORD_ENV));
  // Inline secrets, so /config has something to redact.
  yaml += apiModule('wrong_password', ['username: admin', `password: ${WRONG_PASSWORD}`, ca]);
  yaml += apiModule('wrong_key', [`api_key: ${WRONG_KEY}`, ca]);
  yaml += apiModule('vpn_flow_error', [`api_key: {env: ${keyEnv('vpnFlowError')}}`, ca]);
  yaml += apiModule('no_optional', [`api_key: {env: ${keyEnv('globalProtect')}}`, ca], {
    extra: ['high_availability: false', 'sa_detail: false', 'globalprotect: false'],
  });
  const tlsKey = `api_key: {env: ${keyEnv('tls')}}`;
  yaml += apiModule('tls_wrong_ca', [tlsKey, `tls_config: {ca_file: ${pki.otherCa.cert}}`]);
  yaml += apiModule('tls_system_ca', [tlsKey]);
  yaml += apiModule('tls_pin_ok', [tlsKey, `tls_config: {cert_fingerprints_sha256: ["${api.tls.certFingerprint}"]}`]);
  yaml += apiModule('tls_pin_wrong', [tlsKey, `tls_config: {cert_fingerprints_sha256: ["${WRONG_FINGERPRINT}"]}`]);
  yaml += apiModule('tls_insecure', [tlsKey, 'tls_config: {insecure_skip_verify: true}'], { extra: ['allowed_targets: ["127.0.0.1:*"]'] });
  yaml += apiModule('tls_wrong_name', [tlsKey, `tls_config: {ca_file: ${pki.ca.cert}, server_name: fw.example.net}`]);
  yaml += apiModule('hostile', [tlsKey, ca], { timeoutMs: HANG_TIMEOUT_MS, extra: [`max_response_bytes: ${SMALL_BOUND}`] });
  yaml += apiModule('ssh_auth_on_api', [tlsKey, ca]);
  exporter = await startTestExporter(yaml);
});

after(async () => {
  await exporter?.close();
  await Promise.all([...Object.values(ssh), ...Object.values(api), ...Object.values(hostile)].map((e) => e.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// --- helpers -----------------------------------------------------------------------------
interface Result {
  text: string;
  reason?: string;
  failure?: string;
}

async function probe(module: string, target: string, extra = ''): Promise<Result> {
  const res = await exporter.get(`/api/probe?module=${module}&target=${target}${extra}`);
  assert.equal(res.status, 200, `${module}: HTTP ${res.status}`);
  const json = (await res.json()) as { success: boolean; reason: string | null; failureReason: string | null };
  const text = await (await exporter.get(`/probe?module=${module}&target=${target}${extra}`)).text();
  return { text, ...(json.success ? {} : { reason: json.reason ?? '', failure: json.failureReason ?? '' }) };
}

const at = (e: { host: string; port: number }) => `${e.host}:${e.port}`;
const hostileAt = (h: Hostile) => `127.0.0.1:${h.port}`;

/** Every series as `name{labels} value`, sorted; `skip` names families left out of a comparison. */
function series(text: string, skip: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    if (skip.has(m[1] as string)) continue;
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

/**
 * The documented differences between the probers (README, PAN-OS section): the CLI prompt's
 * HA word (`paloalto_ha_info`) exists only over SSH; the XML API's IKE SA entries carry no
 * state word, so `paloalto_ike_sa_info` differs in its `state` label; and the probe's own
 * duration. Connected seconds are compared within 2 s (two probes, two clocks).
 */
const NOT_COMPARED = new Set(['probe_duration_seconds', 'paloalto_ha_info', 'paloalto_ike_sa_info']);
const CLOCK = new Set(['vpn_user_connected_seconds']);

// --- tests -------------------------------------------------------------------------------
describe('paloalto-api and paloalto-ssh agree on every scenario', () => {
  for (const name of Object.keys(SHARED) as Shared[]) {
    it(name, async () => {
      const viaSsh = await probe(`ssh_${name}`, at(ssh[name]));
      const viaApi = await probe(`api_${name}`, at(api[name]));
      assert.equal(viaSsh.reason, undefined, `ssh: ${viaSsh.reason}`);
      assert.equal(viaApi.reason, undefined, `api: ${viaApi.reason}`);
      const a = series(viaSsh.text, NOT_COMPARED);
      const b = series(viaApi.text, NOT_COMPARED);
      assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), 'the same series');
      for (const [k, v] of a) {
        const name = k.replace(/\{.*$/, '');
        if (CLOCK.has(name)) assert.ok(Math.abs((b.get(k) ?? Number.NaN) - v) <= 2, `${k}: ssh ${v}, api ${b.get(k)}`);
        else assert.equal(b.get(k), v, k);
      }
      // The IKE SA info exists on both where SAs do, with the same gateways.
      const gw = (t: string) =>
        samples(t, 'paloalto_ike_sa_info')
          .map((s) => s.labels.gateway)
          .sort();
      assert.deepEqual(gw(viaApi.text), gw(viaSsh.text));
      assert.ok(a.size >= (SHARED[name].tunnels.length > 0 ? 20 : 10), `${name}: only ${a.size} series compared`);
    });
  }
});

describe('paloalto-api reads each scenario', () => {
  it('a tunnel with three proxy-ids, one down, names the one that is down', async () => {
    const { text } = await probe('api_proxyIds', at(api.proxyIds));
    assert.equal(sampleValue(text, 'vpn_tunnel_up{tunnel="to-hq:net-b",kind="site-to-site"}'), 0);
    assert.equal(sampleValue(text, 'vpn_tunnel_up{tunnel="to-hq:net-a",kind="site-to-site"}'), 1);
    assert.equal(sampleValue(text, 'paloalto_ipsec_sas{tunnel="to-hq:net-b"}'), 0);
    assert.equal(sampleValue(text, 'paloalto_ipsec_sas{tunnel="to-hq:net-c"}'), 1);
  });

  it('GlobalProtect users are sessions of their gateway, each gateway asked on its own', async () => {
    const before = api.globalProtect.stats().commands.length;
    const { text } = await probe('api_globalProtect', at(api.globalProtect));
    assert.equal(sampleValue(text, 'vpn_user_sessions{tunnel="GP-EXT",user="alice@corp.example"}'), 1);
    assert.equal(sampleValue(text, 'vpn_user_sessions{tunnel="GP-EXT",user="bob@corp.example"}'), 1);
    assert.equal(sampleValue(text, 'vpn_user_sessions{tunnel="GP-INT",user="carol@corp.example"}'), 1);
    assert.equal(sampleValue(text, 'paloalto_globalprotect_gateway_previous_users{gateway="GP-EXT"}'), 12);
    const asked = api.globalProtect.stats().commands.slice(before);
    // The JSON probe and the metrics probe: two probes, each with two current-user questions (two gateways).
    assert.equal(asked.filter((c) => c === 'show global-protect-gateway current-user').length, 4);
  });

  it('on a passive unit the tunnels are on standby, not down', async () => {
    const { text } = await probe('api_haPassive', at(api.haPassive));
    assert.equal(samples(text, 'vpn_tunnel_up').length, 0);
    assert.equal(sampleValue(text, 'vpn_tunnel_state{tunnel="to-dc1",state="standby"}'), 1);
    assert.equal(sampleValue(text, 'paloalto_ha_local_state{state="passive"}'), 1);
  });

  it('a refused optional command does not fail the probe; switched off, it is not asked', async () => {
    const { text } = await probe('api_haRefused', at(api.haRefused));
    assert.equal(sampleValue(text, 'probe_success'), 1);
    assert.equal(sampleValue(text, 'paloalto_command_success{command="show high-availability state"}'), 0);
    const before = api.globalProtect.stats().commands.length;
    const off = await probe('no_optional', at(api.globalProtect));
    assert.equal(sampleValue(off.text, 'probe_success'), 1);
    assert.deepEqual(api.globalProtect.stats().commands.slice(before), ['show system info', 'show vpn flow', 'show system info', 'show vpn flow']);
    assert.equal(samples(off.text, 'paloalto_command_success').length, 0);
  });

  it('an error response fails the probe with the device words', async () => {
    const r = await probe('vpn_flow_error', at(api.vpnFlowError));
    assert.equal(r.failure, 'command_failed');
    assert.ok(r.reason?.includes(VPN_FLOW_ERROR), r.reason);
    assert.match(r.reason ?? '', /^show vpn flow: /);
  });
});

describe('API keys', () => {
  it('a key is generated once per target and credentials, by a POST, and reused', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await probe('keygen', at(api.keygen))).reason, undefined);
    const s = api.keygen.stats();
    assert.equal(s.keygens, 1);
    assert.equal(s.forbidden, 0);
    for (const url of s.urls) {
      assert.doesNotMatch(url, /key=|password|user=/i, url);
      for (const k of s.generatedKeys) assert.ok(!url.includes(encodeURIComponent(k)) && !url.includes(k), url);
    }
  });

  it('a key the device no longer takes is generated again, once', async () => {
    assert.equal((await probe('keygen_expiry', at(api.keygenExpiry))).reason, undefined);
    api.keygenExpiry.expireGeneratedKeys();
    const r = await probe('keygen_expiry', at(api.keygenExpiry));
    assert.equal(r.reason, undefined);
    const s = api.keygenExpiry.stats();
    assert.equal(s.keygens, 2);
    assert.equal(s.forbidden, 1);
  });

  it('a wrong password fails keygen with the device words, classed auth_failed', async () => {
    const r = await probe('wrong_password', at(api.wrongPassword));
    assert.equal(r.failure, 'auth_failed');
    assert.match(r.reason ?? '', /keygen: .*\(code 403\): Invalid Credential/);
    assert.equal(api.wrongPassword.stats().ops, 0);
  });

  it('a wrong key is 403 Invalid Credential, classed auth_failed', async () => {
    const r = await probe('wrong_key', at(api.wrongKey));
    assert.equal(r.failure, 'auth_failed');
    assert.match(r.reason ?? '', /show system info: .*\(code 403\): Invalid Credential/);
  });

  it('auths: an https auth fits paloalto-api; an ssh auth does not (400)', async () => {
    const ok = await probe('ssh_auth_on_api', at(api.allActive), '&auth=api_auth');
    assert.equal(ok.reason, undefined);
    const res = await exporter.get(`/probe?module=ssh_auth_on_api&target=${at(api.allActive)}&auth=ssh_auth`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /holds ssh credentials; .*takes https/);
    const res2 = await exporter.get(`/probe?module=ssh_allActive&target=${at(ssh.allActive)}&auth=api_auth`);
    assert.equal(res2.status, 400);
  });
});

describe('TLS', () => {
  it('a certificate from another CA fails with the reason, classed like a wrong host key', async () => {
    const r = await probe('tls_wrong_ca', at(api.tls));
    assert.equal(r.failure, 'host_key_mismatch');
    assert.match(r.reason ?? '', /TLS certificate of 127\.0\.0\.1:\d+ rejected/);
  });

  it('the system CAs do not know the lab CA: verified by default', async () => {
    assert.equal((await probe('tls_system_ca', at(api.tls))).failure, 'host_key_mismatch');
  });

  it('a certificate without the configured server_name fails', async () => {
    const r = await probe('tls_wrong_name', at(api.tls));
    assert.equal(r.failure, 'host_key_mismatch');
    assert.match(r.reason ?? '', /fw\.example\.net/);
  });

  it('a pinned fingerprint: the right one is ok, a wrong one fails before any request', async () => {
    const before = api.tls.stats().urls.length;
    assert.equal((await probe('tls_pin_ok', at(api.tls))).reason, undefined);
    const wrong = await probe('tls_pin_wrong', at(api.tls));
    assert.equal(wrong.failure, 'host_key_mismatch');
    assert.match(wrong.reason ?? '', /certificate fingerprint mismatch/);
    // Each successful probe pair asked its commands; the pinned-wrong ones sent nothing.
    const urls = api.tls.stats().urls.length - before;
    assert.equal(urls % 7, 0, `${urls} requests`);
  });

  it('insecure_skip_verify works with allowed_targets, and without them the configuration is refused', async () => {
    assert.equal((await probe('tls_insecure', at(api.tls))).reason, undefined);
    assert.match(exporter.logs.join('\n'), /TLS certificate not verified \(insecure_skip_verify\)/);
    const yaml = `modules:\n${apiModule('x', ['api_key: abc', 'tls_config: {insecure_skip_verify: true}'])}`;
    assert.throws(() => parseConfig('m.yaml', yaml, PROBERS), /modules\.x: the module skips TLS certificate verification, so allowed_targets is required/);
    const auth = `auths:\n  a:\n    https: {api_key: abc, tls_config: {insecure_skip_verify: true}}\nmodules:\n  x:\n    prober: paloalto-api\n    auth: a\n`;
    assert.throws(() => parseConfig('m.yaml', auth, PROBERS), /allowed_targets is required/);
  });

  it('the configuration refuses half credentials and both kinds at once', () => {
    const one = (lines: string[]) => `modules:\n${apiModule('x', lines)}`;
    assert.throws(() => parseConfig('m.yaml', one(['username: admin']), PROBERS), /give api_key, or username and password/);
    assert.throws(() => parseConfig('m.yaml', one(['api_key: k', 'username: a', 'password: p']), PROBERS), /not both/);
    assert.throws(() => parseConfig('m.yaml', one(['api_key: k', 'tls_config: {cert_fingerprints_sha256: ["abc"]}']), PROBERS), /SHA-256 fingerprint/);
  });

  it('the API is HTTPS only: plain HTTP to the emulator is refused', async () => {
    await assert.rejects(
      new Promise((resolve, reject) => {
        const req = http.get(`http://${at(api.allActive)}/api/?type=op&cmd=<show><system><info/></system></show>`, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        });
        req.on('error', reject);
      }),
    );
  });
});

describe('the emulator is honest', () => {
  const call = (e: PanosApiEmulator, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request(
        { host: e.host, port: e.port, path, method: init.method ?? 'GET', headers: init.headers, ca: readFileSync(pki.ca.cert) },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(init.body);
    });

  it('unknown command: an error response, not an empty success; wrong key: 403; wrong password: 403', async () => {
    const e = api.allActive;
    const unknown = await call(e, `/api/?type=op&cmd=${encodeURIComponent('<show><nonsense/></show>')}`, { headers: { 'X-PAN-KEY': e.apiKey } });
    assert.match(unknown.body, /<response status="error" code="17">.*is unexpected/);
    const bad = await call(e, `/api/?type=op&cmd=${encodeURIComponent('<show><system><info/></system></show>')}`, { headers: { 'X-PAN-KEY': 'nope' } });
    assert.equal(bad.status, 403);
    assert.match(bad.body, /<response status="error" code="403"><result><msg>Invalid Credential<\/msg>/);
    const keygen = await call(e, '/api/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'type=keygen&user=admin&password=wrong',
    });
    assert.equal(keygen.status, 403);
  });
});

describe('hostile servers', () => {
  it('garbage, an HTML page, a huge body, a hang, plain HTTP and a silent TCP port each fail with their reason', async () => {
    const cases: [Hostile, string, RegExp][] = [
      [hostile.garbage, 'protocol_error', /not XML/],
      [hostile.notPanos, 'protocol_error', /not a PAN-OS API <response>/],
      [hostile.huge, 'output_too_large', /exceeds the limit of 65536 bytes/],
      [hostile.hang, 'timeout', /timed out/],
      [hostile.plainHttp, 'protocol_error', /not a TLS\/HTTP answer/],
      [hostile.silentTcp, 'timeout', /timed out/],
    ];
    for (const [h, reason, words] of cases) {
      const r = await probe('hostile', hostileAt(h));
      assert.equal(r.failure, reason, `${h.port}: ${r.reason}`);
      assert.match(r.reason ?? '', words);
    }
  });

  it('leaves no socket open behind a failed probe', async () => {
    for (const [name, h] of Object.entries({ hang: hostile.hang, silentTcp: hostile.silentTcp, huge: hostile.huge, garbage: hostile.garbage })) {
      await waitFor(`server-side connections of ${name} closed`, () => h.open() === 0 || undefined, { timeoutMs: 10_000 });
    }
    assert.deepEqual(unhandled, []);
  });
});

describe('warm probes reuse the TLS connection', () => {
  it('after the first probe, no handshake', async () => {
    const e = api.someInactive;
    await probe('api_someInactive', at(e));
    const before = e.handshakes();
    for (let i = 0; i < 5; i++) await probe('api_someInactive', at(e));
    assert.equal(e.handshakes(), before);
    assert.ok(e.connections() >= 1);
    assert.ok(exporter.https.sockets() >= 1, 'the transport keeps the connection');
  });
});

describe('secrets never leak', () => {
  it('no API key, password or generated key appears in any answer, page, log or metric', async () => {
    const needles = new Map<string, string>();
    for (const [n, e] of Object.entries(api)) needles.set(`api key ${n}`, e.apiKey);
    needles.set('password', SCENARIOS.allActive.password);
    needles.set('wrong password', WRONG_PASSWORD);
    needles.set('wrong key', WRONG_KEY);

    const outputs: { where: string; text: string }[] = [];
    const get = async (path: string) => {
      const res = await exporter.get(path);
      const text = await res.text();
      outputs.push({ where: path, text: `${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${text}` });
      return text;
    };
    for (const [m, e] of [
      ['keygen', api.keygen],
      ['wrong_password', api.wrongPassword],
      ['wrong_key', api.wrongKey],
      ['api_globalProtect', api.globalProtect],
    ] as const) {
      const q = `module=${m}&target=${at(e)}`;
      await get(`/probe?${q}&debug=true`);
      await get(`/probe?${q}`);
      await get(`/api/probe?${q}`);
      await get(`/sessions?${q}`);
      await get(`/sessions.html?${q}`);
    }
    const history = await get('/history');
    for (const id of new Set([...history.matchAll(/logs\?id=(\d+)/g)].map((m) => m[1]))) await get(`/logs?id=${id}`);
    await get('/config');
    await get('/');
    await get('/metrics');
    outputs.push({ where: 'exporter log', text: exporter.logs.join('\n') });
    assert.ok(
      outputs.some((o) => o.text.includes('<secret>')),
      'no redacted secret shown: is /config still rendering modules?',
    );
    for (const n of ['keygen', 'keygenExpiry'] as const) {
      for (const [i, k] of api[n].stats().generatedKeys.entries()) needles.set(`generated key ${n} ${i}`, k);
    }
    assert.ok(
      [...needles.keys()].some((k) => k.startsWith('generated')),
      'no key was generated',
    );
    for (const [label, v] of [...needles]) needles.set(`${label} (url-encoded)`, encodeURIComponent(v));
    const leaks: string[] = [];
    for (const { where, text } of outputs) for (const [label, needle] of needles) if (text.includes(needle)) leaks.push(`${label} in ${where}`);
    assert.deepEqual(leaks, []);
  });
});
