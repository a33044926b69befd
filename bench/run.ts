import { benchCardinality } from './cardinality.js';
import { benchEngine } from './engine.js';
import { benchFleet } from './fleet.js';
import { benchFleetPage } from './fleet-page.js';
import { benchOpenvpn } from './openvpn.js';
import { benchOpenvpnMgmt } from './openvpn-mgmt.js';
import { benchPaloalto } from './paloalto.js';
import { benchVici } from './vici.js';
import { benchViciSsh } from './vici-ssh.js';
import { benchWireguard } from './wireguard.js';

/** `npm run bench`: side-by-side measurements against references, reported as ratios. */
const benches: [string, () => Promise<string[]>][] = [
  ['vici', benchVici],
  ['vici-ssh', benchViciSsh],
  ['openvpn', benchOpenvpn],
  ['openvpn-mgmt', benchOpenvpnMgmt],
  ['paloalto', benchPaloalto],
  ['wireguard', benchWireguard],
  ['fleet', benchFleet],
  ['fleet-page', benchFleetPage],
  ['cardinality', benchCardinality],
  ['engine', benchEngine],
];
const only = process.argv[2];
for (const [name, bench] of benches) {
  if (only && only !== name) continue;
  const lines = await bench();
  process.stdout.write(`${lines.join('\n')}\n\n`);
}
