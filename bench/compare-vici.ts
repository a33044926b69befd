// Side by side (not part of `npm run bench`): two or more builds of the exporter and swanctl,
// interleaved probe by probe against one server with the 10,000-IKE_SA answers, so a change is
// measured against the code before it under the same load. Build the other one with
// `node --import tsx scripts/bundle-exporter.ts <dir>` (e.g. from a checkout of the older commit).
//   node --import tsx bench/compare-vici.ts <hub|concentrator> <instant|charon> <rounds> <launcher>...
// Prints per build the median /probe time and its ratio to swanctl's, the exporter's CPU per
// probe (all its threads), its worst peak RSS growth, and whether its answers differ from the
// first build's (apart from probe_duration_seconds).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { charonCommands } from '../test/support/charon-like.js';
import type { SaMix } from '../test/support/charon-shapes.js';
import { startViciServer, type WritePattern } from '../test/support/vici-server.js';
import { startExporterProcess } from './support/exporter-process.js';
import { mb } from './support/stats.js';

const run = promisify(execFile);
const [mix = 'hub', pattern = 'instant', roundsArg = '7', ...launchers] = process.argv.slice(2);
if (launchers.length === 0) launchers.push('dist/vpn-exporter.mjs');
const rounds = Number(roundsArg);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] as number;

const server = await startViciServer({
  commands: charonCommands({ sas: 10_000, mix: mix as SaMix, conns: 50, pools: 4, leases: 250 }),
  write: pattern as WritePattern,
  recordCommands: false,
});
const yaml = 'modules:\n  vici:\n    prober: strongswan-vici-tcp\n    timeout: 60s\n';
const exporters = [];
for (const launcher of launchers) exporters.push(await startExporterProcess(yaml, [], launcher));
const results = exporters.map(() => ({ ms: [] as number[], cpu: [] as number[], growth: 0, body: '' }));
const swanctl: number[] = [];
try {
  // One round unmeasured first: code caches, JIT and heaps warm up alike.
  for (let r = 0; r <= rounds; r++) {
    for (const [i, exporter] of exporters.entries()) {
      const result = results[i] as (typeof results)[number];
      const before = exporter.rss().current;
      exporter.resetPeak();
      const cpu = exporter.cpuSeconds();
      const t0 = performance.now();
      const body = await (await fetch(`${exporter.url}/probe?module=vici&target=127.0.0.1:${server.port}`)).text();
      const ms = performance.now() - t0;
      if (!body.includes('\nprobe_success 1\n')) throw new Error(`probe failed:\n${body.slice(0, 500)}`);
      result.body = body.replace(/^probe_duration_seconds .*$/m, '');
      if (r === 0) continue;
      result.ms.push(ms);
      result.cpu.push((exporter.cpuSeconds() - cpu) * 1000);
      result.growth = Math.max(result.growth, exporter.rss().peak - before);
    }
    const t0 = performance.now();
    await run('swanctl', ['--list-sas', '--raw', '--uri', `tcp://127.0.0.1:${server.port}`], { maxBuffer: 1 << 30 });
    if (r > 0) swanctl.push(performance.now() - t0);
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  process.stdout.write(`${mix}, ${pattern} server, ${rounds} rounds, load ${load}: swanctl ${median(swanctl).toFixed(0)} ms\n`);
  for (const [i, launcher] of launchers.entries()) {
    const { ms, cpu, growth, body } = results[i] as (typeof results)[number];
    const same = body === results[0]?.body ? '' : '  ANSWER DIFFERS from the first build';
    process.stdout.write(
      `  ${launcher}: /probe ${median(ms).toFixed(0)} ms (${(median(ms) / median(swanctl)).toFixed(2)}x), CPU ${median(cpu).toFixed(0)} ms, peak growth ${mb(growth)}${same}\n`,
    );
  }
} finally {
  for (const exporter of exporters) await exporter.stop();
  await server.close();
}
