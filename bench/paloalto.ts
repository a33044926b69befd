import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SCENARIOS,
  startPanosApiEmulator,
  startPanosEmulator,
  type PanosApiEmulator,
  type PanosEmulator,
  type PanosScenario,
} from '../test/support/panos-emulator/index.js';
import { makeTestPki } from '../test/support/test-pki.js';
import { startExporterProcess, type ExporterProcess } from './support/exporter-process.js';
import { fmt, ratio } from './support/stats.js';

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

/** Median of a list of seconds. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** What one warm probe costs the exporter and asks of the device: CPU, and the round trips counted on the device side. */
async function perWarmProbe(exporter: ExporterProcess, probe: () => Promise<void>, deviceCount: () => number) {
  const cpu0 = exporter.cpuSeconds();
  const n0 = deviceCount();
  for (let i = 0; i < WARM_RUNS; i++) await probe();
  return { cpuMs: ((exporter.cpuSeconds() - cpu0) / WARM_RUNS) * 1000, roundTrips: (deviceCount() - n0) / WARM_RUNS };
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
        const probe = (target: string) => async (module: string) => {
          const res = await fetch(`${exporter?.url}/probe?module=${module}&target=${target}`);
          const text = await res.text();
          if (!/^probe_success 1$/m.test(text)) throw new Error(`probe failed in the benchmark (${module}):\n${text.slice(0, 500)}`);
        };
        const viaSsh = probe(`${ssh.host}:${ssh.port}`);
        const viaApi = probe(`${api.host}:${api.port}`);
        const sshHandshakes = () => selfMetric(exporter as ExporterProcess, 'vpn_exporter_ssh_handshakes_total');
        await viaSsh('ssh');
        await viaApi('api');

        // Round trips and CPU, one prober at a time. SSH: channel requests (session, pty,
        // shell) and the command lines whose answer the prober waits for (`exit` is not
        // awaited); the API: HTTP requests.
        const reqs = () => Object.values(ssh.requests()).reduce((a, b) => a + b, 0);
        const awaited = () => ssh.commands().filter((c) => c !== 'exit').length;
        const commands0 = ssh.commands().length;
        const s = await perWarmProbe(
          exporter,
          () => viaSsh('ssh'),
          () => reqs() + awaited(),
        );
        const sshDialogue = ssh.commands().slice(commands0, commands0 + (ssh.commands().length - commands0) / WARM_RUNS);
        const apiCommands0 = api.stats().commands.length;
        const a = await perWarmProbe(
          exporter,
          () => viaApi('api'),
          () => api.stats().urls.length,
        );
        const apiDialogue = api.stats().commands.slice(apiCommands0, apiCommands0 + (api.stats().commands.length - apiCommands0) / WARM_RUNS);

        // Wall time, the two probers alternating, so a change in the machine's load hits both alike.
        const hsSsh0 = await sshHandshakes();
        const hsApi0 = api.handshakes();
        const warm = { ssh: [] as number[], api: [] as number[] };
        for (let i = 0; i < WARM_RUNS; i++) {
          warm.ssh.push(await timed(() => viaSsh('ssh')));
          warm.api.push(await timed(() => viaApi('api')));
        }
        const warmHandshakes = [(await sshHandshakes()) - hsSsh0, api.handshakes() - hsApi0];
        const cold = { ssh: [] as number[], api: [] as number[], keygen: [] as number[] };
        const keygens0 = api.stats().keygens;
        for (let i = 0; i < COLD_MODULES; i++) {
          cold.ssh.push(await timed(() => viaSsh(`ssh_cold_${i}`)));
          cold.api.push(await timed(() => viaApi(`api_cold_${i}`)));
          cold.keygen.push(await timed(() => viaApi(`api_keygen_cold_${i}`)));
        }
        const coldHandshakes = [(await sshHandshakes()) - hsSsh0 - warmHandshakes[0]!, api.handshakes() - hsApi0 - warmHandshakes[1]!];
        const keygens = api.stats().keygens - keygens0;
        if (warmHandshakes.some((n) => n !== 0) || coldHandshakes[0] !== COLD_MODULES || coldHandshakes[1] !== 2 * COLD_MODULES || keygens !== COLD_MODULES) {
          throw new Error(`pooling not as intended: warm handshakes ${warmHandshakes}, cold ${coldHandshakes}, keygens ${keygens}`);
        }
        const w = { ssh: median(warm.ssh), api: median(warm.api) };
        const c = { ssh: median(cold.ssh), api: median(cold.api), keygen: median(cold.keygen) };
        const load = (await import('node:os')).loadavg()[0]?.toFixed(1);
        out.push(
          `PAN-OS, emulator ${label}, paloalto-ssh vs paloalto-api in one exporter (load average ${load} on this machine):`,
          `  prober        warm (median of ${WARM_RUNS})  cold (median of ${COLD_MODULES})  CPU/warm probe  round trips/warm probe`,
          `  paloalto-ssh  ${fmt(w.ssh).padEnd(19)}  ${fmt(c.ssh).padEnd(17)}  ${`${s.cpuMs.toFixed(1)} ms`.padEnd(14)}  ${s.roundTrips}`,
          `  paloalto-api  ${fmt(w.api).padEnd(19)}  ${fmt(c.api).padEnd(17)}  ${`${a.cpuMs.toFixed(1)} ms`.padEnd(14)}  ${a.roundTrips}`,
          `  api/ssh       ${ratio(w.api, w.ssh).padEnd(19)}  ${ratio(c.api, c.ssh).padEnd(17)}  ${ratio(a.cpuMs, s.cpuMs)}`,
          `  paloalto-api cold with a password (keygen first): ${fmt(c.keygen)}, ${ratio(c.keygen, c.ssh)} of ssh cold`,
          `  ssh per probe: ${sshDialogue.join(', ')}`,
          `  api per probe: ${apiDialogue.join(', ')}`,
          `  handshakes: 0 during the ${WARM_RUNS} warm probes of each; one per cold probe`,
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
