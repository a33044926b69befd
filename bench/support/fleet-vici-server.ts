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
import type net from 'node:net';
import { answeringServer, encodeAnswers as encode, type EncodedAnswers } from './vici-bench-server.js';
import { fleetHosts } from './fleet-addresses.js';
import {
  getPoolsResponse, listConnEvents, listSaEvents, statsResponse, versionResponse,
} from '../../test/support/charon-shapes.js';

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

function encodeAnswers(sas: number): EncodedAnswers {
  return encode({
    responses: {
      version: versionResponse(),
      stats: statsResponse(sas),
      // Road warriors are one IKE_SA in four (charon-shapes): about that many leases.
      'get-pools': getPoolsResponse(1, Math.max(1, Math.round(sas / 4))),
    },
    streams: {
      'list-sas': { event: 'list-sa', events: listSaEvents(sas) },
      'list-conns': { event: 'list-conn', events: listConnEvents(10) },
    },
  });
}

async function main(spec: FleetViciSpec): Promise<void> {
  const variants = new Map<number, EncodedAnswers>();
  const sockets = new Set<net.Socket>();
  const servers: net.Server[] = [];
  const span = spec.maxSas - spec.minSas + 1;
  await Promise.all(
    fleetHosts(spec.first, spec.count, spec.net).map((host, i) => {
      const sas = spec.minSas + (i % span);
      let answers = variants.get(sas);
      if (!answers) variants.set(sas, (answers = encodeAnswers(sas)));
      const server = answeringServer(answers, sockets);
      servers.push(server);
      return new Promise<void>((resolve, reject) => {
        server.once('error', (err) => reject(new Error(`cannot listen on ${host}:${spec.port}: ${err.message}`)));
        // A large backlog: at a few thousand probes per interval, connects arrive in bursts.
        server.listen({ host, port: spec.port, backlog: 1024 }, resolve);
      });
    }),
  );
  const stop = () => {
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
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
