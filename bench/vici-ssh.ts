import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startViciUnixLab } from '../test/lab/support/strongswan-lab.js';
import { startViciSshGateway } from '../test/lab/support/vici-ssh-lab.js';
import { startExporterProcess } from './support/exporter-process.js';
import { fmt, medianSeconds, ratio } from './support/stats.js';

const run = promisify(execFile);

/**
 * strongswan-vici-ssh against the lab's real charon (VICI on its unix socket only) behind a
 * real sshd, side by side with OpenSSH's best case for a comparable read: `swanctl
 * --list-sas --raw` run through a ControlMaster that is already up. The probe does more
 * (five commands: version, stats, get-pools, list-sas, list-conns). Needs root: the lab
 * builds network namespaces (run under the lab lock).
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

  const exporter = await startExporterProcess(modules);
  const lines: string[] = [];
  try {
    const warmRuns = 50;
    await probe('forward')(exporter.url);
    const cpuBefore = exporter.cpuSeconds();
    const warmForward = await medianSeconds(warmRuns, () => probe('forward')(exporter.url));
    const cpuPerProbe = (exporter.cpuSeconds() - cpuBefore) / (warmRuns + 1);
    const warmBridge = await medianSeconds(warmRuns, () => probe('bridge')(exporter.url));
    await run('ssh', [...sshArgs, 'true']);
    const mux = await medianSeconds(20, () => run('ssh', [...sshArgs, 'swanctl --list-sas --raw']));
    await run('ssh', ['-o', `ControlPath=${controlPath}`, '-O', 'exit', `${gw.rootUser}@${host}`]).catch(() => undefined);

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
      'strongswan-vici-ssh, real charon (4 conns, 4 IKE_SAs) behind a real sshd in a lab namespace:',
      `  warm /probe, stream-local forward as root (median of ${warmRuns}): ${fmt(warmForward)}`,
      `  warm /probe, sudo -n socat bridge (median of ${warmRuns}):        ${fmt(warmBridge)}`,
      `  ssh ControlMaster: swanctl --list-sas --raw (median of 20):    ${fmt(mux)}`,
      `  warm /probe vs multiplexed ssh: forward ${ratio(warmForward, mux)}, bridge ${ratio(warmBridge, mux)} (goal <= 1.0x)`,
      `  cold /probe (new SSH connection, median of 5): forward ${fmt(coldForward)}, bridge ${fmt(coldBridge)}`,
      `  cold ssh swanctl --list-sas --raw (new connection, median of 4): ${fmt(sshCold)}`,
      `  exporter CPU per warm probe (forward): ${(cpuPerProbe * 1000).toFixed(1)} ms`,
    );
    return lines;
  } finally {
    await exporter.stop();
  }
}
