// Profiling driver (not part of `npm run bench`): serves the 10,000-IKE_SA bench answers on a port and
// probes an exporter started by hand, e.g. with --cpu-prof. Usage:
//   node --import tsx bench/profile-vici.ts <hub|concentrator> <exporter-url> [probes]
import { charonCommands } from '../test/support/charon-like.js';
import type { SaMix } from '../test/support/charon-shapes.js';
import { startViciServer } from '../test/support/vici-server.js';

const [mix = 'hub', url = 'http://127.0.0.1:9999', count = '10'] = process.argv.slice(2);
const server = await startViciServer({
  commands: charonCommands({ sas: 10_000, mix: mix as SaMix, conns: 50, pools: 4, leases: 250 }),
  write: 'instant',
  recordCommands: false,
});
const times: number[] = [];
for (let i = 0; i < Number(count); i++) {
  const t0 = performance.now();
  const res = await fetch(`${url}/probe?module=vici&target=127.0.0.1:${server.port}`);
  const text = await res.text();
  if (!text.includes('probe_success 1')) throw new Error(text.slice(0, 400));
  times.push(performance.now() - t0);
}
process.stdout.write(`${times.map((t) => t.toFixed(0)).join(' ')} ms\n`);
await server.close();
