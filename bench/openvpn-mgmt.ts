import { spawn } from 'node:child_process';
import { startOpenvpnLab, type OpenvpnLab } from '../test/lab/support/openvpn-lab.js';
import { startExporterProcess } from './support/exporter-process.js';
import { fmt, ratio } from './support/stats.js';

/**
 * openvpn-mgmt against the lab's real OpenVPN (management on 203.0.113.1:7505 with a password,
 * three clients connected), side by side with what a user would script: socat to the same
 * port, the password and `status 3` on stdin, read to END, quit. The probe asks four commands
 * (version, state, load-stats, status 3) and builds the metrics. Needs root (the lab's network
 * namespaces): run under the lab lock.
 */
export async function benchOpenvpnMgmt(): Promise<string[]> {
  const lab = await startOpenvpnLab();
  try {
    return await measure(lab);
  } finally {
    await lab.stop();
  }
}

async function measure(lab: OpenvpnLab): Promise<string[]> {
  const modules = `modules:
  mgmt:
    prober: openvpn-mgmt
    timeout: 10s
    name: udp
    password: {file: ${lab.managementPasswordFile}}
`;
  const target = `/probe?module=mgmt&target=${lab.managementTarget}`;
  const probe = async (url: string) => {
    const text = await (await fetch(url + target)).text();
    if (!text.includes('probe_success 1')) throw new Error(`probe failed in the benchmark:\n${text.slice(0, 600)}`);
  };
  const [host, port] = lab.managementTarget.split(':') as [string, string];
  const scripted = () => socatStatus3(host, port, lab.managementPassword);

  const exporter = await startExporterProcess(modules);
  try {
    await probe(exporter.url);
    const runs = 50;
    const cpuBefore = exporter.cpuSeconds();
    // Interleaved so both see the same machine load.
    const warm: number[] = [];
    const ref: number[] = [];
    await scripted();
    for (let i = 0; i < runs; i++) {
      warm.push(await timed(() => probe(exporter.url)));
      ref.push(await timed(scripted));
    }
    const cpuPerProbe = (exporter.cpuSeconds() - cpuBefore) / (2 * runs);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const w = median(warm);
    const r = median(ref);
    return [
      'openvpn-mgmt, lab OpenVPN 2.6 with 3 clients, management over TCP with a password:',
      `  warm /probe (version, state, load-stats, status 3; median of ${runs}): ${fmt(w)}`,
      `  socat, password + status 3, read to END, quit (median of ${runs}): ${fmt(r)}`,
      `  /probe vs scripted socat: ${ratio(w, r)}`,
      `  exporter CPU per probe: ${(cpuPerProbe * 1000).toFixed(1)} ms`,
    ];
  } finally {
    await exporter.stop();
  }
}

/** One management conversation with socat, as a script would hold it: answer the prompt, ask, read to END, quit. */
function socatStatus3(host: string, port: string, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('socat', ['-', `TCP:${host}:${port}`], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let asked = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (!asked && out.includes('ENTER PASSWORD:')) {
        asked = true;
        child.stdin.write(`${password}\nstatus 3\n`);
      }
      if (/^END\r?$/m.test(out)) child.stdin.end('quit\n');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (!/^CLIENT_LIST\t/m.test(out) || !/^END\r?$/m.test(out)) reject(new Error(`socat (exit ${code}) gave no status 3:\n${out.slice(0, 400)}`));
      else resolve();
    });
  });
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}
