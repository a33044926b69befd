import type { SaMix } from '../test/support/charon-shapes.js';
import { charonCommands } from '../test/support/charon-like.js';
import { startViciServer } from '../test/support/vici-server.js';
import { startExporterProcess } from './support/exporter-process.js';
import { fmt, mb, medianSeconds } from './support/stats.js';

/**
 * `npm run bench cardinality`: the series one probe writes at each detail level and user
 * policy, for the two shapes of bench/vici.ts (a 7,500-conn site-to-site hub and a 10,000-user
 * road-warrior concentrator), counted from the answer's sample lines and checked against
 * the count /api/probe reports. The time of a probe at each level is beside it (median of 3).
 */
const SAS = 10_000;
const KEY = 'bench-user-hash-key-0123456789abcdef';

const MODULES: [name: string, what: string, yaml: string][] = [
  ['sas', 'detail: sas (the default, full output)', ''],
  ['users', 'detail: users', 'detail: users'],
  ['tunnels', 'detail: tunnels', 'detail: tunnels'],
  ['users_hashed', 'detail: users, user_labels: hashed', `detail: users\n    user_labels: hashed\n    user_hash_key: ${KEY}`],
  ['users_max', 'detail: users, max_users: 500', 'detail: users\n    max_users: 500'],
  ['sas_max', 'detail: sas, max_users: 500', 'max_users: 500'],
  ['users_dropped', 'detail: users, user_labels: dropped', 'detail: users\n    user_labels: dropped'],
];

export async function benchCardinality(): Promise<string[]> {
  const out: string[] = [];
  for (const mix of ['hub', 'concentrator'] as const) out.push(...(await mixTable(mix)), '');
  return out;
}

const MIX_TEXT: Record<SaMix, string> = {
  hub: 'site-to-site hub: 7,500 conns of one SA each, 2,500 road warriors',
  concentrator: 'road-warrior concentrator: 9,900 EAP users on one conn, 100 site conns',
};

async function mixTable(mix: SaMix): Promise<string[]> {
  const server = await startViciServer({
    commands: charonCommands({ sas: SAS, mix, conns: 50, pools: 4, leases: 250 }),
    write: 'instant',
    recordCommands: false,
  });
  const yaml = `modules:\n${MODULES.map(([name, , extra]) => `  ${name}:\n    prober: strongswan-vici-tcp\n    timeout: 60s\n${extra ? `    ${extra}\n` : ''}`).join('')}`;
  const exporter = await startExporterProcess(yaml);
  try {
    const lines = [`${MIX_TEXT[mix]}, ${SAS} IKE_SAs:`, `  ${'module'.padEnd(40)} ${'series'.padStart(8)} ${'text'.padStart(9)} ${'/probe'.padStart(9)}`];
    for (const [name, what] of MODULES) {
      const url = `${exporter.url}/probe?module=${name}&target=127.0.0.1:${server.port}`;
      let text = '';
      const time = await medianSeconds(3, async () => {
        text = await (await fetch(url)).text();
      });
      if (!text.includes('probe_success 1')) throw new Error(`probe failed in the benchmark:\n${text.slice(0, 500)}`);
      const series = text.split('\n').filter((l) => l && !l.startsWith('#')).length;
      const api = (await (await fetch(url.replace('/probe?', '/api/probe?'))).json()) as { series: number };
      if (api.series !== series) throw new Error(`${name}: /api/probe says ${api.series} series, the answer has ${series}`);
      lines.push(`  ${what.padEnd(40)} ${String(series).padStart(8)} ${mb(text.length).padStart(9)} ${fmt(time).padStart(9)}`);
    }
    return lines;
  } finally {
    await exporter.stop();
    await server.close();
  }
}
