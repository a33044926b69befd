import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SCENARIOS,
  startPanosApiEmulator,
  startPanosEmulator,
  type ChannelRequests,
  type PanosApiEmulator,
  type PanosEmulator,
  type PanosScenario,
} from '../test/support/panos-emulator/index.js';
import { makeTestPki } from '../test/support/test-pki.js';
import { startExporterProcess, type ExporterProcess } from './support/exporter-process.js';
import { fmt, medianSeconds, ratio } from './support/stats.js';

const PASSWORD_ENV = 'VPNX_BENCH_PANOS_PASSWORD';
const API_KEY_ENV = 'VPNX_BENCH_PANOS_API_KEY';
const WARM_RUNS = 20;
const COLD_RUNS = 5;
/** medianSeconds runs its function once more as a warm-up. */
const COLD_MODULES = COLD_RUNS + 1;

/**
 * Pool keys cover the host key (TLS: certificate) policy, so a module pinning the device's
 * key plus one of its own never shares a connection with another: every probe through a
 * new one of these modules pays TCP connect, the handshake and authentication (for the API
 * with a password: a keygen).
 */
function dummySshFingerprint(i: number): string {
  return `SHA256:${`bench${i}`.padEnd(43, 'A')}`;
}
function dummyCertFingerprint(i: number): string {
  return Array.from({ length: 32 }, (_, b) => (b === 0 ? i : 0xab).toString(16).padStart(2, '0')).join(':');
}

function sshModule(name: string, emu: PanosEmulator, pins: string[]): string {
  return [
    `  ${name}:`,
    '    prober: paloalto-ssh',
    '    timeout: 10s',
    '    ssh:',
    `      username: ${emu.username}`,
    `      password: {env: ${PASSWORD_ENV}}`,
    `      host_key_fingerprints: [${pins.map((p) => `"${p}"`).join(', ')}]`,
    '',
  ].join('\n');
}

function apiModule(name: string, emu: PanosApiEmulator, pins: string[], login: 'key' | 'password'): string {
  return [
    `  ${name}:`,
    '    prober: paloalto-api',
    '    timeout: 10s',
    '    https:',
    ...(login === 'key' ? [`      api_key: {env: ${API_KEY_ENV}}`] : [`      username: ${emu.username}`, `      password: {env: ${PASSWORD_ENV}}`]),
    `      tls_config: {cert_fingerprints_sha256: [${pins.map((p) => `"${p}"`).join(', ')}]}`,
    '',
  ].join('\n');
}

async function selfMetric(exporter: ExporterProcess, name: string): Promise<number> {
  const text = await (await fetch(`${exporter.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  if (!m) throw new Error(`${name} missing from /metrics`);
  return Number(m[1]);
}

interface Figures {
  warm: number;
  cold: number;
  /** API with a password: a cold probe that also generates its key. */
  coldKeygen?: number;
  cpuPerWarmMs: number;
  /** Round trips the exporter waits for per warm probe: SSH channel requests + commands; HTTP requests. */
  roundTrips: number;
  detail: string;
  handshakesWarm: number;
  handshakesCold: number;
}

async function probeFn(exporter: ExporterProcess, target: string) {
  return async (module: string) => {
    const res = await fetch(`${exporter.url}/probe?module=${module}&target=${target}`);
    const text = await res.text();
    if (!/^probe_success 1$/m.test(text)) throw new Error(`probe failed in the benchmark (${module}):\n${text.slice(0, 500)}`);
  };
}

async function benchSsh(exporter: ExporterProcess, emu: PanosEmulator): Promise<Figures> {
  const probe = await probeFn(exporter, `${emu.host}:${emu.port}`);
  const handshakes = () => selfMetric(exporter, 'vpn_exporter_ssh_handshakes_total');
  await probe('ssh');
  const hsWarm = await handshakes();
  const commandsBefore = emu.commands().length;
  const requestsBefore = emu.requests();
  const cpuBefore = exporter.cpuSeconds();
  const warm = await medianSeconds(WARM_RUNS, () => probe('ssh'));
  const warmProbes = WARM_RUNS + 1;
  const cpuPerWarmMs = ((exporter.cpuSeconds() - cpuBefore) / warmProbes) * 1000;
  const handshakesWarm = (await handshakes()) - hsWarm;
  const commands = (emu.commands().length - commandsBefore) / warmProbes;
  const after = emu.requests();
  const requests = (Object.keys(after) as (keyof ChannelRequests)[]).reduce((n, k) => n + (after[k] - requestsBefore[k]), 0) / warmProbes;
  const dialogue = emu.commands().slice(-commands);
  // `exit` is written and the channel closed without waiting for an answer.
  const awaited = dialogue.filter((c) => c !== 'exit').length;
  let next = 0;
  const hsCold = await handshakes();
  const cold = await medianSeconds(COLD_RUNS, () => probe(`ssh_cold_${next++}`));
  const handshakesCold = (await handshakes()) - hsCold;
  return {
    warm,
    cold,
    cpuPerWarmMs,
    roundTrips: requests + awaited,
    detail: `${requests} channel requests (session, pty, shell) + ${awaited} command lines (${dialogue.join(', ')})`,
    handshakesWarm,
    handshakesCold,
  };
}

async function benchApi(exporter: ExporterProcess, emu: PanosApiEmulator): Promise<Figures> {
  const probe = await probeFn(exporter, `${emu.host}:${emu.port}`);
  await probe('api');
  const hsWarm = emu.handshakes();
  const before = emu.stats();
  const cpuBefore = exporter.cpuSeconds();
  const warm = await medianSeconds(WARM_RUNS, () => probe('api'));
  const warmProbes = WARM_RUNS + 1;
  const cpuPerWarmMs = ((exporter.cpuSeconds() - cpuBefore) / warmProbes) * 1000;
  const handshakesWarm = emu.handshakes() - hsWarm;
  const after = emu.stats();
  const requests = (after.urls.length - before.urls.length) / warmProbes;
  const asked = after.commands.slice(before.commands.length, before.commands.length + (after.commands.length - before.commands.length) / warmProbes);
  let next = 0;
  const hsCold = emu.handshakes();
  const cold = await medianSeconds(COLD_RUNS, () => probe(`api_cold_${next++}`));
  const handshakesCold = emu.handshakes() - hsCold;
  const keygensBefore = emu.stats().keygens;
  next = 0;
  const coldKeygen = await medianSeconds(COLD_RUNS, () => probe(`api_keygen_cold_${next++}`));
  const keygens = emu.stats().keygens - keygensBefore;
  if (keygens !== COLD_MODULES) throw new Error(`${keygens} keygens for ${COLD_MODULES} cold password modules`);
  return {
    warm,
    cold,
    coldKeygen,
    cpuPerWarmMs,
    roundTrips: requests,
    detail: `${requests} HTTPS requests (${asked.join(', ')})`,
    handshakesWarm,
    handshakesCold,
  };
}

/**
 * PAN-OS both ways against the same emulated device (same scenario, prompt delay 0): a warm
 * probe (pooled SSH connection, kept-alive TLS connection), a cold one (connect, handshake,
 * log in first), and what one probe asks of the device, side by side in one run.
 */
export async function benchPaloalto(): Promise<string[]> {
  const out: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'vpnx-bench-panos-'));
  try {
    const pki = await makeTestPki(dir);
    for (const [label, base] of [
      ['allActive (3 tunnels)', SCENARIOS.allActive],
      ['globalProtect (1 tunnel, 2 GP gateways, 3 users)', SCENARIOS.globalProtect],
    ] as [string, PanosScenario][]) {
      const scenario = { ...base, promptDelayMs: 0 };
      const ssh = await startPanosEmulator(scenario);
      const api = await startPanosApiEmulator(scenario, { certFile: pki.server.cert, keyFile: pki.server.key });
      // The exporter process inherits process.env; the secrets reach it only that way.
      process.env[PASSWORD_ENV] = ssh.password;
      process.env[API_KEY_ENV] = api.apiKey;
      let yaml = `modules:\n${sshModule('ssh', ssh, [ssh.hostKeyFingerprint])}${apiModule('api', api, [api.certFingerprint], 'key')}`;
      for (let i = 0; i < COLD_MODULES; i++) {
        yaml += sshModule(`ssh_cold_${i}`, ssh, [ssh.hostKeyFingerprint, dummySshFingerprint(i)]);
        yaml += apiModule(`api_cold_${i}`, api, [api.certFingerprint, dummyCertFingerprint(i)], 'key');
        yaml += apiModule(`api_keygen_cold_${i}`, api, [api.certFingerprint, dummyCertFingerprint(i + 100)], 'password');
      }
      let exporter: ExporterProcess | undefined;
      try {
        exporter = await startExporterProcess(yaml);
        const s = await benchSsh(exporter, ssh);
        const a = await benchApi(exporter, api);
        if (s.handshakesWarm !== 0 || a.handshakesWarm !== 0 || s.handshakesCold !== COLD_MODULES || a.handshakesCold !== COLD_MODULES) {
          throw new Error(
            `pooling not as intended: ssh ${s.handshakesWarm}/${s.handshakesCold}, api ${a.handshakesWarm}/${a.handshakesCold} handshakes warm/cold`,
          );
        }
        out.push(
          `PAN-OS, emulator ${label}, paloalto-ssh vs paloalto-api in one exporter:`,
          '  prober        warm (median of 20)  cold (median of 5)  CPU/warm probe  round trips/warm probe',
          `  paloalto-ssh  ${fmt(s.warm).padEnd(19)}  ${fmt(s.cold).padEnd(18)}  ${`${s.cpuPerWarmMs.toFixed(1)} ms`.padEnd(14)}  ${s.roundTrips}`,
          `  paloalto-api  ${fmt(a.warm).padEnd(19)}  ${`${fmt(a.cold)} (${fmt(a.coldKeygen ?? 0)} with keygen)`.padEnd(18)}  ${`${a.cpuPerWarmMs.toFixed(1)} ms`.padEnd(14)}  ${a.roundTrips}`,
          `  api/ssh       ${ratio(a.warm, s.warm).padEnd(19)}  ${ratio(a.cold, s.cold).padEnd(18)}  ${ratio(a.cpuPerWarmMs, s.cpuPerWarmMs)}`,
          `  ssh: ${s.detail}`,
          `  api: ${a.detail}`,
          `  handshakes: 0 during the ${WARM_RUNS + 1} warm probes of each, ${COLD_MODULES} during the ${COLD_MODULES} cold ones of each`,
          '',
        );
      } finally {
        await exporter?.stop();
        await ssh.close();
        await api.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
