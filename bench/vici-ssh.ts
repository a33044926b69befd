import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { silentProbeLog } from '../src/log/probe-log.js';
import { createSshTransport } from '../src/transport/ssh/transport.js';
import type { SshEndpoint } from '../src/transport/ssh/types.js';
import { ViciClient } from '../src/transport/vici/client.js';
import { startViciUnixLab } from '../test/lab/support/strongswan-lab.js';
import { startViciSshGateway } from '../test/lab/support/vici-ssh-lab.js';
import { startExporterProcess } from './support/exporter-process.js';
import { fmt, interleavedMedians, medianSeconds, ratio } from './support/stats.js';

const run = promisify(execFile);

/**
 * strongswan-vici-ssh against the lab's real charon (VICI on its unix socket only) behind a
 * real sshd, side by side with OpenSSH's best case for a comparable read: `swanctl
 * --list-sas --raw` run through a ControlMaster that is already up. The probe does more
 * (six commands: version, stats, list-sas, list-conns, get-pools, list-certs); the
 * list-sas part alone is measured too, for information. Needs root: the lab builds
 * network namespaces.
 */
export async function benchViciSsh(): Promise<string[]> {
  const lab = await startViciUnixLab();
  try {
    const gw = await startViciSshGateway(lab);
    try {
      return await measure(gw);
    } finally {
      await gw.stop();
    }
  } finally {
    await lab.stop();
  }
}

async function measure(gw: Awaited<ReturnType<typeof startViciSshGateway>>): Promise<string[]> {
  const login = (user: string) => `{username: ${user}, private_key: {file: ${gw.privateKeyFile}}, known_hosts: ${gw.knownHostsFile}}`;
  const modules = `modules:
  forward:
    prober: strongswan-vici-ssh
    timeout: 10s
    ssh: ${login(gw.rootUser)}
  bridge:
    prober: strongswan-vici-ssh
    timeout: 10s
    ssh: ${login(gw.monitorUser)}
    socket_command: "${gw.sudoBridge}"
`;
  const [host, port] = gw.targets.open.split(':') as [string, string];
  const probe = (module: string) => async (url: string) => {
    const text = await (await fetch(`${url}/probe?module=${module}&target=${gw.targets.open}`)).text();
    if (!text.includes('probe_success 1')) throw new Error(`probe failed in the benchmark:\n${text.slice(0, 600)}`);
  };
  const controlPath = join(gw.knownHostsFile, '..', 'cm');
  // One login for both references; the multiplexed one adds the ControlMaster options.
  const sshLogin = ['-o', `UserKnownHostsFile=${gw.knownHostsFile}`, '-o', 'BatchMode=yes', '-i', gw.privateKeyFile, '-p', port, `${gw.rootUser}@${host}`];
  const sshArgs = ['-o', 'ControlMaster=auto', '-o', `ControlPath=${controlPath}`, '-o', 'ControlPersist=120', ...sshLogin];

  // The list-sas part alone, through the exporter's own transport and VICI client in this
  // process (no HTTP, no snapshot, no exposition): the same data the reference reads.
  const ssh = createSshTransport();
  const endpoint: SshEndpoint = {
    host,
    port: Number(port),
    credentials: { username: gw.rootUser, privateKey: readFileSync(gw.privateKeyFile, 'utf8') },
    hostKey: { knownHostsFile: gw.knownHostsFile },
  };
  const listSasOnly = async () => {
    const signal = AbortSignal.timeout(10_000);
    const { stream } = await ssh.openStreamLocal(endpoint, '/var/run/charon.vici', { signal, log: silentProbeLog });
    const vici = ViciClient.over(stream, 'bench', silentProbeLog);
    let sas = 0;
    try {
      await vici.streamedRequest('list-sas', 'list-sa', undefined, signal, () => sas++);
    } finally {
      vici.close();
    }
    if (sas === 0) throw new Error('list-sas streamed no IKE_SA in the benchmark');
  };

  const exporter = await startExporterProcess(modules);
  const lines: string[] = [];
  try {
    const runs = 40;
    await run('ssh', [...sshArgs, 'true']);
    // Interleaved: each round runs every contender once, so the shared machine's load hits all alike.
    const warm = await interleavedMedians(runs, {
      forward: () => probe('forward')(exporter.url),
      bridge: () => probe('bridge')(exporter.url),
      mux: () => run('ssh', [...sshArgs, 'swanctl --list-sas --raw']),
      listSas: listSasOnly,
    });
    await run('ssh', ['-o', `ControlPath=${controlPath}`, '-O', 'exit', `${gw.rootUser}@${host}`]).catch(() => undefined);
    const cpuRuns = 20;
    const cpuBefore = exporter.cpuSeconds();
    for (let i = 0; i < cpuRuns; i++) await probe('forward')(exporter.url);
    const cpuPerProbe = (exporter.cpuSeconds() - cpuBefore) / cpuRuns;

    const cold = async (module: string) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const fresh = await startExporterProcess(modules);
        const t0 = performance.now();
        await probe(module)(fresh.url);
        times.push((performance.now() - t0) / 1000);
        await fresh.stop();
      }
      return times.sort((a, b) => a - b)[2] as number;
    };
    const coldForward = await cold('forward');
    const coldBridge = await cold('bridge');
    // OpenSSH's cold case: a new connection for one command, no multiplexing.
    const sshCold = await medianSeconds(4, () => run('ssh', [...sshLogin, 'swanctl --list-sas --raw']));
    lines.push(
      'strongswan-vici-ssh, real charon (4 conns, 4 IKE_SAs) behind a real sshd in a lab namespace',
      `(warm figures: medians of ${runs} rounds, the four contenders taking turns within each round):`,
      `  warm /probe, stream-local forward as root (6 VICI commands):  ${fmt(warm.forward)}`,
      `  warm /probe, sudo -n socat bridge (6 VICI commands):          ${fmt(warm.bridge)}`,
      `  ssh ControlMaster: swanctl --list-sas --raw:                  ${fmt(warm.mux)}`,
      `  warm /probe vs multiplexed ssh: forward ${ratio(warm.forward, warm.mux)}, bridge ${ratio(warm.bridge, warm.mux)} (goal <= 1.0x)`,
      `  for information, list-sas alone over the pooled forward (transport + VICI client, no HTTP): ${fmt(warm.listSas)} (${ratio(warm.listSas, warm.mux)})`,
      `  cold /probe (new SSH connection, median of 5): forward ${fmt(coldForward)}, bridge ${fmt(coldBridge)}`,
      `  cold ssh swanctl --list-sas --raw (new connection, median of 4): ${fmt(sshCold)}`,
      `  exporter CPU per warm probe (forward, ${cpuRuns} probes): ${(cpuPerProbe * 1000).toFixed(1)} ms`,
    );
    return lines;
  } finally {
    await ssh.close();
    await exporter.stop();
  }
}
