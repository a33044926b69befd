import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  GLOBALPROTECT_USERS,
  SCENARIOS,
  SIXTY_CHAR_TUNNEL_NAME,
  VPN_FLOW_ERROR,
  scenario,
  startPanosEmulator,
  tunnel,
  type PanosEmulator,
  type PanosScenario,
} from '../../support/panos-emulator/index.js';
import { sampleValue, startTestExporter, type TestExporter } from '../../support/exporter.js';
import { waitFor } from '../../support/wait-for.js';

/*
 * The paloalto-ssh prober end to end: the exporter in this process, its real ssh2
 * transport, and the PAN-OS emulator's ssh2 server on 127.0.0.1. What is asserted is
 * what Prometheus would see (/probe, /metrics) and what the device saw (commands,
 * channels, connections).
 */

// Hooked before anything runs, so a rejection nobody handles anywhere in this file is caught.
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

const PASSWORD_ENV = 'VPNX_PANOS_TEST_PASSWORD';
const WRONG_PASSWORD_ENV = 'VPNX_PANOS_TEST_WRONG_PASSWORD';
const WRONG_PASSWORD = 'Not-The-Passw0rd?';
/** Every emulated device shares the scenario default password. */
const PASSWORD = SCENARIOS.allActive.password;
process.env[PASSWORD_ENV] = PASSWORD;
process.env[WRONG_PASSWORD_ENV] = WRONG_PASSWORD;

const DEFAULT_TIMEOUT_MS = 5000;
const NEVER_PROMPTS_TIMEOUT_MS = 1500;
/** Ten times the slow prompt's 1.5 s: the probe must wait it out even on a loaded machine. */
const SLOW_PROMPT_TIMEOUT_MS = 15_000;

/** A device whose states the mapping does not know, and a tunnel without an interface. */
const ODD_STATES = scenario({
  hostname: 'PA-ODD',
  tunnels: [
    tunnel(7, 'to-lab', 'pending'),
    tunnel(8, 'no-interface', 'inactiv', { interface: '' }),
    tunnel(9, 'to-dc9', 'active', { monitor: 'down', localIp: '10.0.0.1', peerIp: '10.9.9.9' }),
  ],
});

/** Scenarios whose probe succeeds, each with its own emulator and module. */
const GOOD = {
  allActive: SCENARIOS.allActive,
  someInactive: SCENARIOS.someInactive,
  oneInit: SCENARIOS.oneInit,
  longName: SCENARIOS.longName,
  zeroTunnels: SCENARIOS.zeroTunnels,
  haPassive: SCENARIOS.haPassive,
  slowPrompt: SCENARIOS.slowPrompt,
  pagerRefused: SCENARIOS.pagerRefused,
  oddStates: ODD_STATES,
  haActive: SCENARIOS.haActive,
  proxyIds: SCENARIOS.proxyIds,
  globalProtect: SCENARIOS.globalProtect,
  noGlobalProtect: SCENARIOS.noGlobalProtect,
  slowDevice: SCENARIOS.slowDevice,
  haRefused: { ...SCENARIOS.haActive, faults: { refuse: { 'show high-availability state': 'Server error : permission denied' } } },
} satisfies Record<string, PanosScenario>;

/** Devices of their own for each failure and for the pooling checks, so counters are this test's alone. */
const DEVICES = {
  ...GOOD,
  neverPrompts: SCENARIOS.neverPrompts,
  dropsMidOutput: SCENARIOS.dropsMidOutput,
  vpnFlowError: SCENARIOS.vpnFlowError,
  wrongKey: SCENARIOS.allActive,
  wrongPassword: SCENARIOS.allActive,
  pooled: SCENARIOS.allActive,
  oneSession: { ...SCENARIOS.allActive, faults: { sessionsPerConnection: 1 } },
} satisfies Record<string, PanosScenario>;
type Device = keyof typeof DEVICES;

const emu = {} as Record<Device, PanosEmulator>;
let exporter: TestExporter;

function moduleYaml(name: string, opts: { timeoutMs?: number; passwordEnv?: string; fingerprint: string }): string {
  return [
    `  panos_${name}:`,
    '    prober: paloalto-ssh',
    `    timeout: ${opts.timeoutMs ?? DEFAULT_TIMEOUT_MS}ms`,
    '    ssh:',
    '      username: admin',
    `      password: {env: ${opts.passwordEnv ?? PASSWORD_ENV}}`,
    `      host_key_fingerprints: ["${opts.fingerprint}"]`,
    '',
  ].join('\n');
}

before(async () => {
  const names = Object.keys(DEVICES) as Device[];
  const started = await Promise.all(names.map((n) => startPanosEmulator(DEVICES[n])));
  for (const [i, n] of names.entries()) emu[n] = started[i] as PanosEmulator;
  let yaml = 'modules:\n';
  for (const n of names) {
    if (n === 'wrongKey' || n === 'wrongPassword') continue;
    const timeoutMs = n === 'neverPrompts' ? NEVER_PROMPTS_TIMEOUT_MS : n === 'slowPrompt' ? SLOW_PROMPT_TIMEOUT_MS : undefined;
    yaml += moduleYaml(n, { timeoutMs, fingerprint: emu[n].hostKeyFingerprint });
  }
  // Another device's key: what a swapped or impersonated unit presents.
  yaml += moduleYaml('wrongKey', { fingerprint: emu.pooled.hostKeyFingerprint });
  yaml += moduleYaml('wrongPassword', { passwordEnv: WRONG_PASSWORD_ENV, fingerprint: emu.wrongPassword.hostKeyFingerprint });
  exporter = await startTestExporter(yaml);
});

after(async () => {
  await exporter?.close();
  await Promise.all(Object.values(emu).map((e) => e.close()));
});

// --- reading what the exporter says -------------------------------------------------

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SERIES = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SERIES.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    LABEL.lastIndex = 0;
    let consumed = 0;
    for (let l = LABEL.exec(body); l; l = LABEL.exec(body)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
      consumed = LABEL.lastIndex;
    }
    assert.equal(consumed, body.length, `labels not fully parsed: ${line}`);
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  const keys = samples.map((s) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`);
  assert.equal(new Set(keys).size, keys.length, 'a series appears twice');
  return samples;
}

/** One family's series as sortable strings, labels in a fixed order, for exact comparison. */
function seriesOf(samples: Sample[], name: string): string[] {
  return samples
    .filter((s) => s.name === name)
    .map((s) => `${JSON.stringify(Object.fromEntries(Object.entries(s.labels).sort()))} ${s.value}`)
    .sort();
}

function expectSeries(rows: [Record<string, string>, number][]): string[] {
  return rows.map(([labels, v]) => `${JSON.stringify(Object.fromEntries(Object.entries(labels).sort()))} ${v}`).sort();
}

const STATES = ['up', 'partial', 'down', 'unknown', 'ignored', 'standby'] as const;

/** On a passive unit every tunnel is on standby; that needs the HA command, or the prompt when HA is not asked. */
function standby(s: PanosScenario): boolean {
  return (s.ha?.localState ?? s.haState) === 'passive';
}

function mapped(panosState: string, s?: PanosScenario): (typeof STATES)[number] {
  if (s && standby(s)) return 'standby';
  if (panosState === 'active') return 'up';
  if (panosState === 'inactiv' || panosState === 'init') return 'down';
  return 'unknown';
}

/** Asserts every series the scenario determines, and that no tunnel series exists beyond its tunnels. */
function assertMatchesScenario(text: string, s: PanosScenario): Sample[] {
  const samples = parseExposition(text);
  assert.equal(sampleValue(text, 'probe_success'), 1, 'probe_success');

  assert.deepEqual(
    seriesOf(samples, 'vpn_info'),
    expectSeries([[{ vendor: 'paloalto', product: 'PAN-OS', version: s.swVersion, hostname: s.hostname, os: 'PAN-OS', model: s.model, serial: s.serial }, 1]]),
  );
  assert.equal(sampleValue(text, 'vpn_uptime_seconds'), s.uptimeSeconds);

  // GlobalProtect gateways are remote-access tunnels whose sessions are their users.
  const gp = s.globalProtect?.gateways ?? [];
  const gpState = standby(s) ? 'standby' : 'up';
  const all = [
    ...s.tunnels.map((t) => ({ name: t.name, kind: 'site-to-site', state: mapped(t.state, s), sessions: t.state === 'active' ? 1 : 0 })),
    ...gp.map((g) => ({
      name: g.name,
      kind: 'remote-access',
      state: gpState,
      sessions: s.globalProtect?.users.filter((u) => u.gateway === g.name).length ?? 0,
    })),
  ];
  assert.deepEqual(
    seriesOf(samples, 'vpn_tunnel_up'),
    expectSeries(all.filter((t) => t.state !== 'standby').map((t) => [{ tunnel: t.name, kind: t.kind }, t.state === 'up' ? 1 : 0])),
  );
  assert.deepEqual(
    seriesOf(samples, 'vpn_tunnel_state'),
    expectSeries(all.flatMap((t) => STATES.map((st): [Record<string, string>, number] => [{ tunnel: t.name, state: st }, t.state === st ? 1 : 0]))),
  );
  assert.deepEqual(seriesOf(samples, 'vpn_tunnel_sessions'), expectSeries(all.map((t) => [{ tunnel: t.name }, t.sessions])));
  assert.deepEqual(
    seriesOf(samples, 'paloalto_tunnel_info'),
    expectSeries(
      s.tunnels.map((t) => [
        {
          tunnel: t.name,
          id: String(t.id),
          interface: t.interface,
          monitor: t.monitor,
          local_ip: t.localIp,
          peer_ip: t.peerIp,
          state: t.state,
        },
        1,
      ]),
    ),
  );
  assert.deepEqual(
    seriesOf(samples, 'paloalto_tunnels_configured'),
    expectSeries([
      [{ type: 'all' }, s.tunnels.length + (s.otherTunnels ?? 0)],
      [{ type: 'ipsec' }, s.tunnels.length],
    ]),
  );
  assert.deepEqual(seriesOf(samples, 'paloalto_ha_info'), expectSeries(s.haState === undefined ? [] : [[{ state: s.haState }, 1]]));

  const names = new Set(all.map((t) => t.name));
  for (const x of samples) {
    if ('tunnel' in x.labels) assert.ok(names.has(x.labels.tunnel as string), `series for a tunnel the device lacks: ${x.name} ${x.labels.tunnel}`);
  }
  return samples;
}

function probePath(device: string, target: PanosEmulator, debug = false): string {
  return `/probe?module=panos_${device}&target=${target.host}:${target.port}${debug ? '&debug=true' : ''}`;
}

async function probe(device: Device, opts: { debug?: boolean; target?: PanosEmulator } = {}) {
  const started = performance.now();
  const res = await exporter.get(probePath(device, opts.target ?? emu[device], opts.debug));
  const body = await res.text();
  const wallMs = performance.now() - started;
  assert.equal(res.status, 200, body);
  return { body, wallMs };
}

/** `debug=true` output split into the failure reason the probe logged and its metrics. */
function debugParts(body: string): { reason: string | undefined; metrics: string } {
  const m = /probe failed reason=("(?:[^"\\]|\\.)*"|\S+)/.exec(body);
  const raw = m?.[1];
  const reason = raw === undefined ? undefined : raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
  const metrics = /Metrics that would have been returned:\n([\s\S]*?)\n\n/.exec(body)?.[1] ?? '';
  return { reason, metrics };
}

/** After a probe: its shell channel is closed on the device; the connection stays pooled (or is gone). */
async function assertShellClosed(e: PanosEmulator, connections: 0 | 1): Promise<void> {
  await waitFor(`0 shells and ${connections} connection(s)`, () => e.shells() === 0 && e.connections() === connections);
  // And it stays that way: nothing reopens or drops behind the probe's back.
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(e.shells(), 0, 'open shells on the device');
  assert.equal(e.connections(), connections, 'SSH connections on the device');
}

async function handshakes(): Promise<number> {
  const text = await (await exporter.get('/metrics')).text();
  const v = sampleValue(text, 'vpn_exporter_ssh_handshakes_total');
  assert.ok(v !== undefined, 'vpn_exporter_ssh_handshakes_total missing from /metrics');
  return v;
}

const FULL_DIALOGUE = [
  'set cli pager off',
  'show system info',
  'show vpn flow',
  'show high-availability state',
  'show vpn ike-sa',
  'show vpn ipsec-sa',
  'show global-protect-gateway current-user',
  'show global-protect-gateway statistics',
  'exit',
];

// --- the scenarios --------------------------------------------------------------------

describe('paloalto-ssh against the PAN-OS emulator, through /probe', () => {
  for (const name of Object.keys(GOOD) as (keyof typeof GOOD)[]) {
    it(`${name}: the exporter's view matches the device`, async () => {
      const s = GOOD[name];
      const e = emu[name];
      const hsBefore = await handshakes();
      const { body } = await probe(name);
      assertMatchesScenario(body, s);
      assert.deepEqual(e.commands(), FULL_DIALOGUE);
      assert.deepEqual(e.requests(), { session: 1, pty: 1, shell: 1 });
      assert.equal(await handshakes(), hsBefore + 1);
      await assertShellClosed(e, 1);
    });
  }

  it("proxyIds: a newer release's trailing mode column is read past; the proxy-id that is down is named", async () => {
    const text = (await probe('proxyIds')).body;
    assert.equal(sampleValue(text, 'vpn_tunnel_up{tunnel="to-hq:net-b",kind="site-to-site"}'), 0);
    assert.equal(sampleValue(text, 'vpn_tunnel_up{tunnel="to-hq:net-a",kind="site-to-site"}'), 1);
    const samples = parseExposition(text);
    assert.deepEqual(
      seriesOf(samples, 'paloalto_ipsec_sas'),
      expectSeries([
        [{ tunnel: 'to-hq:net-a' }, 1],
        [{ tunnel: 'to-hq:net-b' }, 0],
        [{ tunnel: 'to-hq:net-c' }, 1],
        [{ tunnel: 'to-branch' }, 1],
      ]),
    );
    assert.equal(sampleValue(text, 'paloalto_ipsec_sa_remaining_seconds{tunnel="to-hq:net-c"}'), 3012);
    assert.equal(sampleValue(text, 'paloalto_ipsec_sa_lifetime_seconds{tunnel="to-hq:net-c"}'), 3600);
    assert.equal(sampleValue(text, 'paloalto_ipsec_sa_info{tunnel="to-hq:net-a",gateway="gw-to-hq",algorithm="ESP/A256/SHA256"}'), 1);
    assert.deepEqual(
      seriesOf(samples, 'paloalto_ike_sas'),
      expectSeries([
        [{ gateway: 'gw-to-hq', version: '2' }, 1],
        [{ gateway: 'gw-to-branch', version: '2' }, 1],
      ]),
    );
    assert.equal(
      sampleValue(text, 'paloalto_ike_sa_info{gateway="gw-to-hq",version="2",role="Init",mode="",algorithm="PSK/DH20/A256/SHA256",state="Established"}'),
      1,
    );
    for (const c of FULL_DIALOGUE.slice(3, -1)) assert.equal(sampleValue(text, `paloalto_command_success{command="${c}"}`), 1, c);
  });

  it('globalProtect: users are sessions of their gateway; addresses, computer and client stay out of labels', async () => {
    const s = SCENARIOS.globalProtect;
    const text = (await probe('globalProtect')).body;
    const samples = parseExposition(text);
    assert.deepEqual(
      seriesOf(samples, 'vpn_user_sessions'),
      expectSeries([
        [{ tunnel: 'GP-EXT', user: 'alice@corp.example' }, 1],
        [{ tunnel: 'GP-EXT', user: 'bob@corp.example' }, 1],
        [{ tunnel: 'GP-INT', user: 'carol@corp.example' }, 1],
      ]),
    );
    // The device counts no traffic per user: no byte series rather than zeros.
    assert.deepEqual(seriesOf(samples, 'vpn_user_receive_bytes_total'), []);
    const connected = sampleValue(text, 'vpn_user_connected_seconds{tunnel="GP-INT",user="carol@corp.example"}') ?? -1;
    assert.ok(Math.abs(connected - GLOBALPROTECT_USERS.carol.loggedInSecondsAgo) <= 60, `carol connected ${connected}s`);
    assert.deepEqual(
      seriesOf(samples, 'paloalto_globalprotect_gateway_users'),
      expectSeries([
        [{ gateway: 'GP-EXT' }, 2],
        [{ gateway: 'GP-INT' }, 1],
      ]),
    );
    assert.deepEqual(
      seriesOf(samples, 'paloalto_globalprotect_gateway_previous_users'),
      expectSeries([
        [{ gateway: 'GP-EXT' }, 12],
        [{ gateway: 'GP-INT' }, 3],
      ]),
    );
    for (const u of s.globalProtect?.users ?? []) {
      for (const secret of [u.publicIp, u.virtualIp, u.computer]) assert.ok(!text.includes(secret), `${secret} in the metrics`);
    }
    const res = await exporter.get(`/sessions?module=panos_globalProtect&target=${emu.globalProtect.host}:${emu.globalProtect.port}`);
    assert.equal(res.status, 200);
    const rows = (await res.json()) as {
      user: string;
      tunnel: string;
      remotehost: string;
      protocol: string;
      virtualAddresses: string[];
      traffic: unknown;
      details: Record<string, string>;
    }[];
    const bob = rows.find((r) => r.user === 'bob@corp.example');
    assert.deepEqual(
      bob && { tunnel: bob.tunnel, remotehost: bob.remotehost, protocol: bob.protocol, va: bob.virtualAddresses, traffic: bob.traffic, details: bob.details },
      {
        tunnel: 'GP-EXT',
        remotehost: '203.0.113.99',
        protocol: 'SSL',
        va: ['10.31.0.12'],
        traffic: null,
        details: {
          username: 'corp\\bob',
          computer: 'MBP-BOB',
          client: 'Apple Mac OS X 14.4.1',
          clientOs: 'Mac',
          vpnType: 'Device Level VPN',
          loginTime: bob?.details.loginTime ?? '',
        },
      },
    );
    assert.match(bob?.details.loginTime ?? '', /^[A-Z][a-z]{2}\.\d{2} \d{2}:\d{2}:\d{2}$/);
  });

  it('noGlobalProtect: a refusal naming GlobalProtect is an empty answer, not a failure', async () => {
    const text = (await probe('noGlobalProtect')).body;
    assert.equal(sampleValue(text, 'paloalto_command_success{command="show global-protect-gateway current-user"}'), 1);
    assert.equal(sampleValue(text, 'paloalto_command_success{command="show global-protect-gateway statistics"}'), 1);
    assert.doesNotMatch(text, /^paloalto_globalprotect_|^vpn_user_/m);
    // A unit that prints nothing for GlobalProtect (allActive) is read the same way.
    const quiet = (await probe('allActive')).body;
    assert.equal(sampleValue(quiet, 'paloalto_command_success{command="show global-protect-gateway current-user"}'), 1);
    assert.doesNotMatch(quiet, /^paloalto_globalprotect_|^vpn_user_/m);
  });

  it("HA: a passive unit's tunnels are on standby (no vpn_tunnel_up), an active unit's are up or down", async () => {
    const passive = (await probe('haPassive')).body;
    assert.doesNotMatch(passive, /^vpn_tunnel_up/m);
    assert.equal(sampleValue(passive, 'vpn_tunnel_state{tunnel="to-dc1",state="standby"}'), 1);
    assert.equal(sampleValue(passive, 'vpn_tunnel_state{tunnel="to-dc1",state="down"}'), 0);
    assert.equal(sampleValue(passive, 'paloalto_ha_enabled'), 1);
    assert.equal(sampleValue(passive, 'paloalto_ha_local_state{state="passive"}'), 1);
    assert.equal(sampleValue(passive, 'paloalto_ha_local_state{state="active"}'), 0);
    assert.equal(sampleValue(passive, 'paloalto_ha_peer_state{state="active"}'), 1);
    assert.equal(sampleValue(passive, 'paloalto_ha_peer_connected'), 1);
    const active = (await probe('haActive')).body;
    assert.equal(sampleValue(active, 'vpn_tunnel_up{tunnel="to-dc2",kind="site-to-site"}'), 0);
    assert.equal(sampleValue(active, 'paloalto_ha_local_state{state="active"}'), 1);
    const single = (await probe('allActive')).body;
    assert.equal(sampleValue(single, 'paloalto_ha_enabled'), 0);
    assert.doesNotMatch(single, /^paloalto_ha_local_state/m);
  });

  it('haRefused: a refused optional command is recorded and logged; the tunnels are still there', async () => {
    const { body } = await probe('haRefused', { debug: true });
    const { metrics } = debugParts(body);
    assert.equal(sampleValue(metrics, 'probe_success'), 1);
    assert.equal(sampleValue(metrics, 'paloalto_command_success{command="show high-availability state"}'), 0);
    assert.equal(sampleValue(metrics, 'vpn_tunnel_up{tunnel="to-dc1",kind="site-to-site"}'), 1);
    assert.match(body, /warn +panos optional command failed.*show high-availability state.*permission denied/);
  });

  it('slowDevice: every command answered late still makes one probe within its timeout', async () => {
    const { wallMs } = await probe('slowDevice');
    // 8 commands at 150 ms each: at least 1.2 s, and the probe does not give up before.
    assert.ok(wallMs >= 8 * 150, `answered after ${wallMs} ms`);
  });

  it('maps active to up, inactiv and init to down, anything else to unknown', async () => {
    const states = (s: PanosScenario) => s.tunnels.map((t) => `${t.name}=${mapped(t.state)}`);
    // The expectations above are computed; pin the mapping itself to literal values once.
    assert.deepEqual(states(SCENARIOS.oneInit), ['to-dc1=up', 'to-new-site=down']);
    assert.deepEqual(states(ODD_STATES), ['to-lab=unknown', 'no-interface=down', 'to-dc9=up']);
    const text = (await probe('oddStates')).body;
    assert.equal(sampleValue(text, 'vpn_tunnel_state{tunnel="to-lab",state="unknown"}'), 1);
    assert.equal(sampleValue(text, 'vpn_tunnel_up{tunnel="to-lab",kind="site-to-site"}'), 0);
    assert.equal(sampleValue(text, 'vpn_tunnel_state{tunnel="no-interface",state="down"}'), 1);
    assert.match(text, /^paloalto_tunnel_info\{tunnel="no-interface",id="8",interface="",.*\} 1$/m);
    const init = (await probe('oneInit')).body;
    assert.equal(sampleValue(init, 'vpn_tunnel_state{tunnel="to-new-site",state="down"}'), 1);
    assert.match(init, /^paloalto_tunnel_info\{tunnel="to-new-site",id="2",.*state="init"\} 1$/m);
  });

  it('the HA state from the prompt: paloalto_ha_info for active and passive units only', async () => {
    const active = (await probe('someInactive')).body;
    assert.equal(sampleValue(active, 'paloalto_ha_info{state="active"}'), 1);
    assert.equal(sampleValue(active, 'paloalto_tunnels_configured{type="all"}'), 4);
    assert.equal(sampleValue(active, 'paloalto_tunnels_configured{type="ipsec"}'), 3);
    const passive = (await probe('haPassive')).body;
    assert.equal(sampleValue(passive, 'paloalto_ha_info{state="passive"}'), 1);
    assert.match(passive, /^vpn_info\{.*hostname="PA-SEC".*\} 1$/m);
    assert.doesNotMatch((await probe('allActive')).body, /^paloalto_ha_info/m);
  });

  it('a 60-character tunnel name comes through intact', async () => {
    assert.equal(SIXTY_CHAR_TUNNEL_NAME.length, 60);
    const samples = parseExposition((await probe('longName')).body);
    const names = new Set(samples.filter((x) => 'tunnel' in x.labels).map((x) => x.labels.tunnel));
    assert.deepEqual([...names].sort(), [SIXTY_CHAR_TUNNEL_NAME, 'short'].sort());
    const info = samples.find((x) => x.name === 'paloalto_tunnel_info' && x.labels.id === '5');
    assert.equal(info?.labels.tunnel, SIXTY_CHAR_TUNNEL_NAME);
    assert.equal(info?.labels.interface, 'tunnel.5');
  });

  it('zero tunnels: probe_success 1 and not one tunnel series', async () => {
    const text = (await probe('zeroTunnels')).body;
    assert.equal(sampleValue(text, 'probe_success'), 1);
    const samples = parseExposition(text);
    assert.deepEqual(
      samples.filter((x) => 'tunnel' in x.labels || /^vpn_tunnel_|^paloalto_tunnel_info$/.test(x.name)),
      [],
    );
    assert.equal(sampleValue(text, 'paloalto_tunnels_configured{type="all"}'), 0);
  });

  it('slowPrompt: waits out the slow prompt and succeeds within the module timeout', async () => {
    const { body, wallMs } = await probe('slowPrompt');
    assert.equal(sampleValue(body, 'probe_success'), 1);
    const seconds = sampleValue(body, 'probe_duration_seconds') ?? 0;
    assert.ok(seconds >= SCENARIOS.slowPrompt.promptDelayMs / 1000 - 0.05, `took ${seconds}s`);
    assert.ok(seconds < SLOW_PROMPT_TIMEOUT_MS / 1000 && wallMs < SLOW_PROMPT_TIMEOUT_MS, `took ${seconds}s (${wallMs} ms)`);
  });

  it('pagerRefused: pages through every --more-- and reports all 40 tunnels', async () => {
    const e = emu.pagerRefused;
    const pausesBefore = e.pagerPauses();
    const { body } = await probe('pagerRefused', { debug: true });
    const { metrics } = debugParts(body);
    assertMatchesScenario(metrics, SCENARIOS.pagerRefused);
    assert.equal(parseExposition(metrics).filter((x) => x.name === 'paloalto_tunnel_info').length, 40);
    assert.ok(e.pagerPauses() > pausesBefore, 'the device never paused at --more--: paging was not exercised');
    assert.match(body, /warn +panos cli refused a setup command.*permission denied for set cli pager/);
    await assertShellClosed(e, 1);
  });

  it('neverPrompts: fails at the module timeout with a reason, and leaves no shell open', async () => {
    const e = emu.neverPrompts;
    const { body, wallMs } = await probe('neverPrompts', { debug: true });
    const { reason, metrics } = debugParts(body);
    assert.equal(sampleValue(metrics, 'probe_success'), 0);
    // The step it was stuck on is named, not just the deadline.
    assert.match(reason ?? '', /waiting for the first CLI prompt: probe timed out/);
    const seconds = sampleValue(metrics, 'probe_duration_seconds') ?? 0;
    const limit = NEVER_PROMPTS_TIMEOUT_MS / 1000;
    // At the deadline, not before it, and not hanging past it (ten times it at most, for a loaded machine).
    assert.ok(seconds >= limit - 0.05 && seconds < 10 * limit, `failed after ${seconds}s, timeout ${limit}s`);
    assert.ok(wallMs < 10 * NEVER_PROMPTS_TIMEOUT_MS, `answered after ${wallMs} ms`);
    assert.doesNotMatch(metrics, /^vpn_|^paloalto_/m);
    assert.deepEqual(e.commands(), []);
    // The shell is closed on the deadline; the connection itself was fine and stays pooled.
    await assertShellClosed(e, 1);
  });

  it('dropsMidOutput: fails with a reason naming the command and the closed shell', async () => {
    const e = emu.dropsMidOutput;
    const hsBefore = await handshakes();
    const { body } = await probe('dropsMidOutput', { debug: true });
    const { reason, metrics } = debugParts(body);
    assert.equal(sampleValue(metrics, 'probe_success'), 0);
    assert.match(reason ?? '', /^PAN-OS CLI: running `show vpn flow`: ssh shell on admin@127\.0\.0\.1:\d+ closed$/);
    assert.doesNotMatch(metrics, /^vpn_|^paloalto_/m);
    assert.deepEqual(e.commands(), FULL_DIALOGUE.slice(0, 3));
    await assertShellClosed(e, 0);
    // The dead connection is not reused: the next probe handshakes afresh and fails the same way.
    const again = debugParts((await probe('dropsMidOutput', { debug: true })).body);
    assert.equal(again.reason?.replace(/:\d+ /, ' '), reason?.replace(/:\d+ /, ' '));
    assert.equal(await handshakes(), hsBefore + 2);
    await assertShellClosed(e, 0);
  });

  it('a CLI error answering `show vpn flow` fails the probe with the device text in the debug output', async () => {
    const e = emu.vpnFlowError;
    const { body } = await probe('vpnFlowError', { debug: true });
    const { reason, metrics } = debugParts(body);
    assert.equal(sampleValue(metrics, 'probe_success'), 0);
    assert.equal(reason, `PAN-OS refused \`show vpn flow\`: ${VPN_FLOW_ERROR}`);
    assert.ok(body.includes(VPN_FLOW_ERROR));
    assert.doesNotMatch(metrics, /^vpn_|^paloalto_/m);
    assert.deepEqual(e.commands(), FULL_DIALOGUE.slice(0, 3));
    // The device answered; only the command failed: the connection stays pooled, the shell is gone.
    await assertShellClosed(e, 1);
    const plain = (await probe('vpnFlowError')).body;
    assert.equal(sampleValue(plain, 'probe_success'), 0);
  });

  it('a wrong pinned host key: probe_success 0, naming the fingerprint the device presented', async () => {
    const target = emu.wrongKey;
    const { body } = await probe('wrongKey', { debug: true, target });
    const { reason, metrics } = debugParts(body);
    assert.equal(sampleValue(metrics, 'probe_success'), 0);
    assert.ok(reason?.includes(target.hostKeyFingerprint), `reason does not name ${target.hostKeyFingerprint}: ${reason}`);
    assert.match(reason ?? '', /not trusted/);
    // Nothing was asked of a host we do not trust.
    assert.deepEqual(target.requests(), { session: 0, pty: 0, shell: 0 });
    assert.deepEqual(target.commands(), []);
    await assertShellClosed(target, 0);
  });

  it('a wrong password: an authentication failure, and no password in any output', async () => {
    const target = emu.wrongPassword;
    const { body } = await probe('wrongPassword', { debug: true });
    const { reason, metrics } = debugParts(body);
    assert.equal(sampleValue(metrics, 'probe_success'), 0);
    assert.match(reason ?? '', /authentication/i);
    assert.deepEqual(target.requests(), { session: 0, pty: 0, shell: 0 });
    await assertShellClosed(target, 0);

    const page = async (path: string) => (await exporter.get(path)).text();
    const history = await page('/history');
    const outputs = [body, (await probe('wrongPassword')).body, history, await page('/metrics'), await page('/config'), await page('/')];
    for (const id of new Set([...history.matchAll(/logs\?id=(\d+)/g)].map((m) => m[1]))) {
      outputs.push(await page(`/logs?id=${id}`));
    }
    // Last, so it holds every line logged so far, this probe's included.
    outputs.push(exporter.logs.join('\n'));
    for (const [i, text] of outputs.entries()) {
      assert.ok(!text.includes(WRONG_PASSWORD), `the wrong password appears in output #${i}`);
      assert.ok(!text.includes(PASSWORD), `the device password appears in output #${i}`);
    }
  });

  it('each probe closes its shell channel; the pooled connection serves the next probe without a handshake', async () => {
    const e = emu.pooled;
    const before = await handshakes();
    assertMatchesScenario((await probe('pooled')).body, SCENARIOS.allActive);
    assert.equal(await handshakes(), before + 1, 'the first probe handshakes');
    await assertShellClosed(e, 1);

    assertMatchesScenario((await probe('pooled')).body, SCENARIOS.allActive);
    assert.equal(await handshakes(), before + 1, 'the second probe reuses the pooled connection');
    await assertShellClosed(e, 1);
    assert.deepEqual(e.requests(), { session: 2, pty: 2, shell: 2 });
    assert.deepEqual(e.commands(), [...FULL_DIALOGUE, ...FULL_DIALOGUE]);
    // The exporter's side of the channel closes when the device's CLOSE reply arrives.
    await waitFor('the exporter to hold no channel', () => exporter.ssh.stats().channels === 0, {
      describe: () => JSON.stringify(exporter.ssh.stats()),
    });
  });

  it('a unit that grants one session per connection: every probe succeeds, each on a new connection', async () => {
    const e = emu.oneSession;
    const before = await handshakes();
    assertMatchesScenario((await probe('oneSession')).body, SCENARIOS.allActive);
    await assertShellClosed(e, 1);
    // The pooled connection has had its one session: the next probe is refused on it and
    // starts over on a new connection, within the same probe.
    const second = await probe('oneSession', { debug: true });
    assert.equal(debugParts(second.body).reason, undefined, second.body);
    assert.match(second.body, /ssh pooled connection refused another channel, reconnecting/);
    assert.equal(await handshakes(), before + 2);
    assert.deepEqual(e.requests(), { session: 3, pty: 2, shell: 2 });
    assert.deepEqual(e.commands(), [...FULL_DIALOGUE, ...FULL_DIALOGUE]);
    await assertShellClosed(e, 1);
  });

  it('no unhandled rejections', async () => {
    // Late rejections (a channel closing after its probe answered) surface within a few ticks.
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(unhandled, []);
  });
});
