// Regenerates test/fixtures/strongswan/ from a real lab. Run by hand, as root, from the repository root:
//   node --import tsx test/lab/capture-strongswan-fixtures.ts
// Needs strongswan-charon, strongswan-swanctl, strongswan-starter, libcharon-extra-plugins,
// libcharon-extauth-plugins, libstrongswan-standard-plugins, socat and iproute2.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStrokeLab, startViciLab } from './support/strongswan-lab.js';
import { strokeIncludedConf } from './support/strongswan-config.js';
import { shareSiteAIkeSa, sharedIkeGatewayConf } from './support/shared-ike-scenario.js';

const OUT = join(import.meta.dirname, '..', 'fixtures', 'strongswan');

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const write = (name: string, text: string) => {
    writeFileSync(join(OUT, name), text);
    console.log(`wrote ${name}`);
  };

  const vici = await startViciLab();
  let daemonVersion = '';
  try {
    const captures: [string, string[]][] = [
      ['swanctl-list-sas', ['--list-sas']],
      ['swanctl-list-conns', ['--list-conns']],
      ['swanctl-list-pools-leases', ['--list-pools', '--leases']],
      ['swanctl-stats', ['--stats']],
      ['swanctl-version', ['--version', '--daemon']],
    ];
    for (const [name, args] of captures) {
      write(`${name}.txt`, await vici.swanctl(args));
      write(`${name}.raw.txt`, await vici.swanctl([...args, '--raw']));
    }
    daemonVersion = (await vici.swanctl(['--version', '--daemon'])).trim();
  } finally {
    await vici.stop();
  }

  const stroke = await startStrokeLab();
  try {
    write('ipsec-statusall.txt', await stroke.ipsec(['statusall']));
    write('ipsec-status.txt', await stroke.ipsec(['status']));
    write('ipsec-status-site-a.txt', await stroke.ipsec(['status', 'site-a']));
    write('ipsec-status-site-b.txt', await stroke.ipsec(['status', 'site-b']));
    write('ipsec-version.txt', await stroke.ipsec(['version']));
    write('ipsec.conf', readFileSync(join(stroke.dir, 'gw', 'ipsec.conf'), 'utf8'));
    write('ipsec.lab-extra.conf', strokeIncludedConf());
    // Last, as it adds conns: two conns to site-a's peer sharing one IKE_SA, on the gateway and on the peer.
    await shareSiteAIkeSa(stroke);
    write('ipsec-statusall-shared-ike.txt', await stroke.ipsec(['statusall']));
    write('ipsec.lab-extra-shared-ike.conf', sharedIkeGatewayConf());
    const peer = [await stroke.siteASwanctl(['--list-conns', '--pretty']), await stroke.siteASwanctl(['--list-sas', '--pretty'])];
    write('swanctl-peer-shared-ike.pretty.txt', peer.join(''));
  } finally {
    await stroke.stop();
  }

  write('README.md', readme(daemonVersion));
}

function readme(daemonVersion: string): string {
  return `# strongSwan fixtures

Real output captured from the test lab by \`test/lab/capture-strongswan-fixtures.ts\` (do not edit by hand;
re-run the script). Daemon: ${daemonVersion || 'unknown'} (Debian 12 packages, kernel-libipsec, so every
CHILD_SA is TUNNEL-in-UDP).

Addresses are TEST-NET only: 192.0.2.0/24 outside, 198.51.100.0/27 gateway LAN, 198.51.100.32/27 site-a LAN,
pools 198.51.100.128/28 and 198.51.100.144/28.

## VICI gateway (\`swanctl-*.txt\`, \`--raw\` in \`*.raw.txt\`)
- \`site-a\` (IKEv2 PSK, child \`net-a\`): up, a few packets each way.
- \`site-b\` (child \`net-b\`): configured, peer absent, so down (only in list-conns).
- \`rw-eap\` (IKEv2 EAP-MSCHAPv2, pool \`rw-pool\`): users alice and bob connected.
- \`rw-xauth\` (IKEv1 XAuth PSK, pool \`rw-xauth-pool\`): user carol connected.

## Stroke gateway (\`ipsec-*.txt\`, started by starter)
- \`ipsec.conf\` is the file used; it includes \`/etc/ipsec.d/policies/lab-extra.conf\` (\`ipsec.lab-extra.conf\` here).
- \`site-a\` up, \`site-b\` down (from the included file), \`rw-eap\` with alice and bob, \`parked\` has auto=ignore.
- \`ipsec-status-site-a.txt\` / \`ipsec-status-site-b.txt\`: \`ipsec status NAME\` for an up and a down conn.

## Two conns sharing one IKE_SA (\`*shared-ike*\`, test/lab/support/shared-ike-scenario.ts)
- Gateway: \`ipsec.lab-extra-shared-ike.conf\` was appended to the included file (\`site-a-2\`, \`site-a-3\`, both
  also=site-a), then \`ipsec update\`; stroke merged both into site-a's peer config. \`ipsec-statusall-shared-ike.txt\`:
  no main line for them under "Connections:", only child lines; \`site-a-2{N}\` INSTALLED under \`site-a[M]\`.
- Peer (site-a, swanctl): conns \`site-a\` (child \`net-a\`) and \`site-a2\` (child \`net-a2\`), same peer settings;
  \`swanctl-peer-shared-ike.pretty.txt\` (\`--list-conns --pretty\` then \`--list-sas --pretty\`): net-a2 nested
  under the IKE_SA named site-a.
`;
}

await main();
