import { benchEngine } from './engine.js';
import { benchFleet } from './fleet.js';
import { benchOpenvpn } from './openvpn.js';
import { benchPaloalto } from './paloalto.js';
import { benchVici } from './vici.js';
import { benchViciSsh } from './vici-ssh.js';

/** `npm run bench`: side-by-side measurements against references, reported as ratios. */
const benches: [string, () => Promise<string[]>][] = [
  ['vici', benchVici],
  ['vici-ssh', benchViciSsh],
  ['openvpn', benchOpenvpn],
  ['paloalto', benchPaloalto],
  ['fleet', benchFleet],
  ['engine', benchEngine],
];
const only = process.argv[2];
for (const [name, bench] of benches) {
  if (only && only !== name) continue;
  const lines = await bench();
  process.stdout.write(`${lines.join('\n')}\n\n`);
}
