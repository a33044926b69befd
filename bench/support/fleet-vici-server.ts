// A fleet of simulated charons in one process, each listening on its own loopback address.
//
// Run as a child process (so its CPU is measured apart from the exporter and the load driver):
//   node --import tsx bench/support/fleet-vici-server.ts '<json FleetViciSpec>'
// It prints "ready <count>" on stdout once every listener is bound, and exits on SIGTERM or
// when its stdin closes (the parent died).
//
// Every gateway answers like a charon 5.9 with 20–50 IKE_SAs (one CHILD_SA each), 10 configured
// connections and one virtual-IP pool; the answers are encoded once per size, so the server's own
// cost per probe is framing and writing, as a real charon's would be mostly in-memory walking.
import { charonCommands } from '../../test/support/charon-like.js';
import { startViciServer, type CommandHandler, type ScriptedViciServer } from '../../test/support/vici-server.js';
import { fleetHosts } from './fleet-addresses.js';

export interface FleetViciSpec {
  /** Gateways fleetHost(first) … fleetHost(first + count - 1) under 127.<net>. */
  first: number;
  count: number;
  net: number;
  port: number;
  /** IKE_SAs of gateway i: minSas + (i mod (maxSas - minSas + 1)). */
  minSas: number;
  maxSas: number;
}

/** Road warriors are one IKE_SA in four (charon-shapes): about that many leases; 10 configured conns. */
function gatewayOf(sas: number): Record<string, CommandHandler> {
  return charonCommands({ sas, conns: 10, pools: 1, leases: Math.max(1, Math.round(sas / 4)) });
}

async function main(spec: FleetViciSpec): Promise<void> {
  // One set of replies per size, shared by the gateways of that size: encoded once.
  const sizes = new Map<number, Record<string, CommandHandler>>();
  const span = spec.maxSas - spec.minSas + 1;
  const servers: ScriptedViciServer[] = await Promise.all(
    fleetHosts(spec.first, spec.count, spec.net).map((host, i) => {
      const sas = spec.minSas + (i % span);
      let commands = sizes.get(sas);
      if (!commands) {
        commands = gatewayOf(sas);
        sizes.set(sas, commands);
      }
      // A large backlog: at a few thousand probes per interval, connects arrive in bursts.
      return startViciServer({ host, port: spec.port, backlog: 1024, commands, recordCommands: false });
    }),
  );
  const stop = () => {
    for (const s of servers) void s.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.stdin.on('end', stop).on('close', stop).resume();
  process.stdout.write(`ready ${servers.length}\n`);
}

const arg = process.argv[2];
if (arg) {
  main(JSON.parse(arg) as FleetViciSpec).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
