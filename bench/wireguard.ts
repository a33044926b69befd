import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT_USER, startWireguardLab, type WireguardLab } from '../test/lab/support/wireguard-lab.js';
import { startExporterProcess } from './support/exporter-process.js';
import { fmt, medianSeconds, ratio } from './support/stats.js';

const run = promisify(execFile);

/**
 * wireguard-ssh against the lab's real wireguard-go (two interfaces, four peers) behind a
 * real sshd, side by side with what a user would script: `wg show all dump` over an ssh
 * ControlMaster that is already up. The probe does a little more: the same dump piped through
 * an awk filter on the gateway (it drops the private and preshared keys, then reads the config
 * files for names) and `wg --version`, all in one exec. Needs root: the lab builds network namespaces (run
 * under the lab lock).
 */
export async function benchWireguard(): Promise<string[]> {
  const lab = await startWireguardLab();
  try {
    return await measure(lab);
  } finally {
    await lab.stop();
  }
}

async function measure(lab: WireguardLab): Promise<string[]> {
  const login = `{username: ${ROOT_USER}, private_key: {file: ${lab.rootSshd.privateKeyFile}}, known_hosts: ${lab.knownHostsFile}}`;
  const modules = `modules:
  wg:
    prober: wireguard-ssh
    timeout: 10s
    ssh: ${login}
    config_dir: ${lab.configDir}
  wg_noconfig:
    prober: wireguard-ssh
    timeout: 10s
    ssh: ${login}
    read_config: false
`;
  const [host, port] = lab.rootTarget.split(':') as [string, string];
  const probe = (module: string) => async (url: string) => {
    const text = await (await fetch(`${url}/probe?module=${module}&target=${lab.rootTarget}`)).text();
    if (!text.includes('probe_success 1')) throw new Error(`probe failed in the benchmark:\n${text.slice(0, 600)}`);
  };
  const controlPath = join(lab.dir, 'cm');
  const sshLogin = [
    '-o',
    `UserKnownHostsFile=${lab.knownHostsFile}`,
    '-o',
    'BatchMode=yes',
    '-i',
    lab.rootSshd.privateKeyFile,
    '-p',
    port,
    `${ROOT_USER}@${host}`,
  ];
  const sshArgs = ['-o', 'ControlMaster=auto', '-o', `ControlPath=${controlPath}`, '-o', 'ControlPersist=120', ...sshLogin];

  const exporter = await startExporterProcess(modules);
  try {
    const warmRuns = 50;
    await probe('wg')(exporter.url);
    const cpuBefore = exporter.cpuSeconds();
    const warm = await medianSeconds(warmRuns, () => probe('wg')(exporter.url));
    const cpuPerProbe = (exporter.cpuSeconds() - cpuBefore) / (warmRuns + 1);
    const warmNoConfig = await medianSeconds(warmRuns, () => probe('wg_noconfig')(exporter.url));
    await run('ssh', [...sshArgs, 'true']);
    const mux = await medianSeconds(20, () => run('ssh', [...sshArgs, 'wg show all dump']));
    await run('ssh', ['-o', `ControlPath=${controlPath}`, '-O', 'exit', `${ROOT_USER}@${host}`]).catch(() => undefined);

    const coldTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const fresh = await startExporterProcess(modules);
      const t0 = performance.now();
      await probe('wg')(fresh.url);
      coldTimes.push((performance.now() - t0) / 1000);
      await fresh.stop();
    }
    coldTimes.sort((a, b) => a - b);
    const cold = coldTimes[2] as number;
    const sshCold = await medianSeconds(4, () => run('ssh', [...sshLogin, 'wg show all dump']));
    return [
      'wireguard-ssh, real wireguard-go (2 interfaces, 4 peers) behind a real sshd in a lab namespace:',
      `  warm /probe, with config names (median of ${warmRuns}):    ${fmt(warm)}`,
      `  warm /probe, read_config: false (median of ${warmRuns}):   ${fmt(warmNoConfig)}`,
      `  ssh ControlMaster: wg show all dump (median of 20):   ${fmt(mux)}`,
      `  warm /probe vs multiplexed ssh: ${ratio(warm, mux)} with config, ${ratio(warmNoConfig, mux)} without (goal <= 1.0x)`,
      `  cold /probe (new SSH connection, median of 5): ${fmt(cold)}; cold ssh wg show all dump (median of 4): ${fmt(sshCold)}, ${ratio(cold, sshCold)}`,
      `  exporter CPU per warm probe: ${(cpuPerProbe * 1000).toFixed(1)} ms`,
    ];
  } finally {
    await exporter.stop();
  }
}
