// The fleet page's store (src/probe/fleet.ts): memory per row against the obvious alternative,
// keeping each target's last snapshot, and the cost of recording a probe and of one /api/fleet
// answer at the default bound. In process: what is measured is the store, not the gateways.
import v8 from 'node:v8';
import vm from 'node:vm';
import type { GatewaySnapshot } from '../src/model/snapshot.js';
import { FleetStore, type FleetProbe } from '../src/probe/fleet.js';
import { ProbeHistory } from '../src/probe/history.js';
import type { AppDeps } from '../src/web/deps.js';
import { fleetRoutes } from '../src/web/routes/fleet.js';
import { startCharonLike } from '../test/support/charon-like.js';
import { startTestExporter } from '../test/support/exporter.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const ROWS = 10_000;
/** Snapshots are large: the reference keeps fewer and is reported per row. */
const REFERENCE_ROWS = 1_000;
const SAS = 20;

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function probeOf(i: number, snapshot: GatewaySnapshot): FleetProbe {
  const target = `gw-${i}.vpn.example.net:4502`;
  return {
    id: i,
    module: 'vici',
    prober: 'strongswan-vici-tcp',
    target,
    targetKey: target,
    startedAt: Date.now(),
    durationSeconds: 0.012,
    success: true,
    source: 'fetched',
    snapshot,
  };
}

export async function benchFleetPage(): Promise<string[]> {
  const charon = await startCharonLike(SAS);
  const exporter = await startTestExporter('modules:\n  vici:\n    prober: strongswan-vici-tcp\n    timeout: 5s\n', { fleetMaxTargets: ROWS });
  try {
    const target = `127.0.0.1:${charon.port}`;
    const answer = (await (await exporter.get(`/api/probe?module=vici&target=${target}`)).json()) as { snapshot: GatewaySnapshot | null };
    const snapshot = answer.snapshot;
    if (!snapshot) throw new Error('the probe of the charon-like server failed');

    const before = heap();
    const store = new FleetStore({ maxEntries: ROWS });
    for (let i = 0; i < ROWS; i++) store.record(probeOf(i, snapshot));
    const storeBytes = (heap() - before) / ROWS;

    const refBefore = heap();
    const reference = new Map<string, GatewaySnapshot>();
    for (let i = 0; i < REFERENCE_ROWS; i++) reference.set(`vici\0gw-${i}.vpn.example.net:4502\0`, structuredClone(snapshot));
    const refBytes = (heap() - refBefore) / REFERENCE_ROWS;

    // Recording at the bound: every probe of a new target drops the least recently probed.
    const n = 100_000;
    const t0 = performance.now();
    for (let i = ROWS; i < ROWS + n; i++) store.record(probeOf(i, snapshot));
    const recordUs = ((performance.now() - t0) * 1000) / n;

    // /api/fleet over the full store: filter, sort and cut on the server; median of 5.
    const app = fleetRoutes({
      fleet: store,
      history: new ProbeHistory(100),
      config: { current: { modules: new Map() } },
      version: 'bench',
    } as unknown as AppDeps);
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      bytes = (await (await app.request('/api/fleet?sort=target')).text()).length;
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    reference.clear();
    return [
      `fleet page store (${SAS}-SA charon-like gateway, 30-character targets)`,
      `  per row: ${storeBytes.toFixed(0)} B; keeping the snapshot instead: ${(refBytes / 1024).toFixed(1)} KiB; ratio ${(storeBytes / refBytes).toFixed(3)}x`,
      `  ${ROWS.toLocaleString('en-US')} rows: ${((storeBytes * ROWS) / 1048576).toFixed(1)} MiB (snapshots: ${((refBytes * ROWS) / 1048576).toFixed(0)} MiB)`,
      `  record at the bound (dropping the least recently probed): ${recordUs.toFixed(2)} us per probe`,
      `  /api/fleet over ${ROWS.toLocaleString('en-US')} rows, sorted by target, first 500: ${(times[2] ?? 0).toFixed(1)} ms median, ${(bytes / 1024).toFixed(0)} KiB`,
    ];
  } finally {
    await exporter.close();
    await charon.close();
  }
}
