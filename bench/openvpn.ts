import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSshd } from '../test/support/sshd.js';
import { makeLabPki } from '../test/lab/support/strongswan-pki.js';
import { startExporterProcess } from './support/exporter-process.js';
import { fmt, medianSeconds, ratio } from './support/stats.js';

const run = promisify(execFile);
const FIXTURES = ['v3-tcp-2.6.status', 'v2-udp-auth-2.6.status', 'v1-udp-2.6.status'];

/**
 * openvpn-ssh against a real sshd on loopback, side by side with OpenSSH's best case
 * for the same work: a multiplexed `ssh … cat` over a ControlMaster that is already up.
 */
export async function benchOpenvpn(): Promise<string[]> {
  const sshd = await startSshd();
  const dir = mkdtempSync(join(tmpdir(), 'vpnx-bench-ovpn-'));
  chmodSync(dir, 0o755);
  const files = FIXTURES.map((f, i) => {
    const path = join(dir, `s${i}.status`);
    copyFileSync(`test/fixtures/openvpn/${f}`, path);
    chmodSync(path, 0o644);
    return path;
  });
  const key = join(dir, 'id');
  writeFileSync(key, sshd.privateKey, { mode: 0o600 });
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${sshd.knownHostsLine}\n`);
  // A server configuration as EasyRSA setups have it: CA, certificate, key, CRL, an inline tls-crypt key.
  const pki = makeLabPki(join(dir, 'pki'));
  chmodSync(pki.dir, 0o755);
  const crlPem = join(pki.dir, 'ca.crl.pem');
  const serverConf = join(dir, 'server.conf');
  writeFileSync(
    serverConf,
    `port 1194\ncd ${pki.dir}\nca ca.crt\ncert gw.crt\nkey gw.key\ncrl-verify ca.crl.pem\n<tls-crypt>\n-----BEGIN OpenVPN Static key V1-----\n${'0123456789abcdef'.repeat(2)}\n-----END OpenVPN Static key V1-----\n</tls-crypt>\n`,
  );
  const ovpnModule = (name: string, extra: string) => `  ${name}:
    prober: openvpn-ssh
    timeout: 10s
    # Fixtures keep the time they were captured at; staleness is not what is measured here.
    max_status_age: 36500d
    ssh: {username: ${sshd.user}, private_key: {file: ${key}}, known_hosts: ${knownHosts}}
    status_files:
${files.map((p, i) => `      - {name: s${i}, path: ${p}}`).join('\n')}
${extra}`;
  const modules = `modules:\n${ovpnModule('ovpn', '')}${ovpnModule('ovpn_certs', `    config_files: [${serverConf}]\n`)}`;
  const probeModule = (module: string) => async (url: string) => {
    const text = await (await fetch(`${url}/probe?module=${module}&target=${sshd.host}:${sshd.port}`)).text();
    if (!text.includes('probe_success 1')) throw new Error(`probe failed in the benchmark:\n${text.slice(0, 400)}`);
    if (module === 'ovpn_certs' && !text.includes('vpn_crl_next_update_timestamp_seconds{')) throw new Error('no CRL series in the benchmark');
  };
  const probe = probeModule('ovpn');

  const sshArgs = [
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${join(dir, 'cm')}`,
    '-o',
    'ControlPersist=120',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'BatchMode=yes',
    '-i',
    key,
    '-p',
    String(sshd.port),
    `${sshd.user}@${sshd.host}`,
  ];
  const exporter = await startExporterProcess(modules);
  try {
    await probe(exporter.url);
    const cpuBefore = exporter.cpuSeconds();
    const warmRuns = 50;
    const warm = await medianSeconds(warmRuns, () => probe(exporter.url));
    const cpuPerProbe = (exporter.cpuSeconds() - cpuBefore) / (warmRuns + 1);
    await run('ssh', [...sshArgs, 'true']);
    const mux = await medianSeconds(20, () => run('ssh', [...sshArgs, 'date +%s; uname -n; cat', ...files]));
    const warmCerts = await medianSeconds(warmRuns, () => probeModule('ovpn_certs')(exporter.url));
    // What a user would script for the same dates: openssl on each file, in the same ssh exec.
    const muxCerts = await medianSeconds(20, () =>
      run('ssh', [
        ...sshArgs,
        `date +%s; uname -n; cat ${files.join(' ')}; openssl x509 -noout -enddate -in ${pki.caCert}; openssl x509 -noout -enddate -in ${pki.gwCert}; openssl crl -noout -nextupdate -in ${crlPem}`,
      ]),
    );
    await run('ssh', ['-o', `ControlPath=${join(dir, 'cm')}`, '-O', 'exit', `${sshd.user}@${sshd.host}`]).catch(() => undefined);

    const coldTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const fresh = await startExporterProcess(modules);
      const t0 = performance.now();
      await probe(fresh.url);
      coldTimes.push((performance.now() - t0) / 1000);
      await fresh.stop();
    }
    coldTimes.sort((a, b) => a - b);
    const cold = coldTimes[2] as number;
    return [
      'openvpn-ssh, 3 status files (v1, v2, v3) over a real sshd on loopback:',
      `  warm /probe (pooled connection, median of ${warmRuns}): ${fmt(warm)}`,
      `  ssh ControlMaster exec of the same cat (median of 20):  ${fmt(mux)}`,
      `  warm /probe vs multiplexed ssh: ${ratio(warm, mux)} (goal <= 1.5x)`,
      `  with config_files (CA, cert, CRL; filtered on the gateway), warm /probe: ${fmt(warmCerts)}, +${fmt(warmCerts - warm)} over status files only`,
      `  ssh ControlMaster: the same cat plus openssl x509 -enddate x2, openssl crl -nextupdate: ${fmt(muxCerts)}; ratio ${ratio(warmCerts, muxCerts)}`,
      `  cold /probe (new SSH connection, median of 5): ${fmt(cold)}`,
      `  exporter CPU per warm probe: ${(cpuPerProbe * 1000).toFixed(1)} ms`,
    ];
  } finally {
    await exporter.stop();
    await sshd.stop();
  }
}
