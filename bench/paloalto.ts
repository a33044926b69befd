import { SCENARIOS, startPanosEmulator, type ChannelRequests, type PanosEmulator } from '../test/support/panos-emulator/index.js';
import { startExporterProcess, type ExporterProcess } from './support/exporter-process.js';
import { fmt, medianSeconds } from './support/stats.js';

const PASSWORD_ENV = 'VPNX_BENCH_PANOS_PASSWORD';
const WARM_RUNS = 20;
const COLD_RUNS = 5;
/** medianSeconds runs its function once more as a warm-up. */
const COLD_MODULES = COLD_RUNS + 1;

/**
 * Pool keys cover the host key policy, so a module pinning the device's key plus a
 * key of its own never shares a connection with another: every probe through a new
 * one of these modules pays TCP connect, key exchange and authentication.
 */
function dummyFingerprint(i: number): string {
  return `SHA256:${`bench${i}`.padEnd(43, 'A')}`;
}

function modulesYaml(emu: PanosEmulator): string {
  const module = (name: string, pins: string[]) =>
    [
      `  ${name}:`,
      '    prober: paloalto-ssh',
      '    timeout: 10s',
      '    ssh:',
      `      username: ${emu.username}`,
      `      password: {env: ${PASSWORD_ENV}}`,
      `      host_key_fingerprints: [${pins.map((p) => `"${p}"`).join(', ')}]`,
      '',
    ].join('\n');
  let yaml = `modules:\n${module('panos', [emu.hostKeyFingerprint])}`;
  for (let i = 0; i < COLD_MODULES; i++) yaml += module(`panos_cold_${i}`, [emu.hostKeyFingerprint, dummyFingerprint(i)]);
  return yaml;
}

async function handshakes(exporter: ExporterProcess): Promise<number> {
  const text = await (await fetch(`${exporter.url}/metrics`)).text();
  const m = /^vpn_exporter_ssh_handshakes_total (\d+)/m.exec(text);
  if (!m) throw new Error('vpn_exporter_ssh_handshakes_total missing from /metrics');
  return Number(m[1]);
}

/**
 * PAN-OS over SSH against the emulator (allActive, prompt without delay): a probe on
 * the pooled connection, a probe that has to connect first, and what one probe asks
 * of the device.
 */
export async function benchPaloalto(): Promise<string[]> {
  const emu = await startPanosEmulator({ ...SCENARIOS.allActive, promptDelayMs: 0 });
  // The exporter process inherits process.env; the secret reaches it only that way.
  process.env[PASSWORD_ENV] = emu.password;
  let exporter: ExporterProcess | undefined;
  try {
    exporter = await startExporterProcess(modulesYaml(emu));
    const url = (module: string) => `${exporter?.url}/probe?module=${module}&target=${emu.host}:${emu.port}`;
    const probe = async (module: string) => {
      const res = await fetch(url(module));
      const text = await res.text();
      if (!/^probe_success 1$/m.test(text)) throw new Error(`probe failed in the benchmark:\n${text.slice(0, 500)}`);
    };

    await probe('panos');
    const hsWarm = await handshakes(exporter);
    const commandsBefore = emu.commands().length;
    const requestsBefore = emu.requests();
    const cpuBefore = exporter.cpuSeconds();
    const warm = await medianSeconds(WARM_RUNS, () => probe('panos'));
    const warmProbes = WARM_RUNS + 1;
    const cpuPerWarm = (exporter.cpuSeconds() - cpuBefore) / warmProbes;
    const warmHandshakes = (await handshakes(exporter)) - hsWarm;
    const perProbe = (n: number) => n / warmProbes;
    const commands = perProbe(emu.commands().length - commandsBefore);
    const requestsAfter = emu.requests();
    const requests = Object.fromEntries(
      (Object.keys(requestsAfter) as (keyof ChannelRequests)[]).map((k) => [k, perProbe(requestsAfter[k] - requestsBefore[k])]),
    ) as unknown as ChannelRequests;
    const dialogue = emu.commands().slice(-commands);

    let next = 0;
    const hsCold = await handshakes(exporter);
    const cold = await medianSeconds(COLD_RUNS, () => probe(`panos_cold_${next++}`));
    const coldHandshakes = (await handshakes(exporter)) - hsCold;
    if (warmHandshakes !== 0 || coldHandshakes !== COLD_MODULES) {
      throw new Error(`pooling not as intended: ${warmHandshakes} handshakes warm (want 0), ${coldHandshakes} cold (want ${COLD_MODULES})`);
    }

    const channelRequests = requests.session + requests.pty + requests.shell;
    // `exit` is written and the channel closed without waiting for an answer.
    const awaitedCommands = dialogue.filter((c) => c !== 'exit').length;
    return [
      `PAN-OS over SSH, emulator allActive (3 tunnels, prompt delay 0):`,
      `  warm /probe (pooled connection), median of ${WARM_RUNS}: ${fmt(warm)}   (exporter CPU ${(cpuPerWarm * 1000).toFixed(1)} ms per probe)`,
      `  cold /probe (TCP + key exchange + auth first), median of ${COLD_RUNS}: ${fmt(cold)}   (cold - warm: ${fmt(cold - warm)})`,
      `  handshakes: ${warmHandshakes} during the ${warmProbes} warm probes, ${coldHandshakes} during the ${COLD_MODULES} cold ones`,
      `  per probe the device received ${commands} command lines (${dialogue.join(', ')})`,
      `    and ${channelRequests} channel requests (session open ${requests.session}, pty ${requests.pty}, shell ${requests.shell})`,
      `  SSH round trips awaited per warm probe: ${channelRequests + awaitedCommands} ` +
        `(${channelRequests} channel requests + ${awaitedCommands} commands; first prompt and \`exit\` not counted)`,
    ];
  } finally {
    await exporter?.stop();
    await emu.close();
  }
}
