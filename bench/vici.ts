import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { encodePacket } from '../src/transport/vici/packet.js';
import { CMD_REQUEST, CMD_RESPONSE, EVENT_REGISTER } from '../src/transport/vici/wire.js';
import type { SaMix } from '../test/support/charon-shapes.js';
import { charonCommands } from '../test/support/charon-like.js';
import { startViciServer, type WritePattern } from '../test/support/vici-server.js';
import { startExporterProcess } from './support/exporter-process.js';
import { fmt, mb, medianSeconds, ratio } from './support/stats.js';

const run = promisify(execFile);
const SAS = 10_000;
/** Untimed probes before the timed ones, after the first (cold) one, and timed probes. */
const WARMUPS = 4;
const PROBES = 7;

/** The floor: register, ask list-sas, and only frame segments until the response. No decoding. */
function frameOnly(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    let segments = 0;
    socket.on('connect', () => {
      socket.write(encodePacket({ type: EVENT_REGISTER, name: 'list-sa' }));
      socket.write(encodePacket({ type: CMD_REQUEST, name: 'list-sas' }));
    });
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let pos = 0;
      while (pending.length - pos >= 4) {
        const len = pending.readUInt32BE(pos);
        if (pending.length - pos - 4 < len) break;
        segments++;
        const type = pending[pos + 4];
        pos += 4 + len;
        if (type === CMD_RESPONSE) {
          socket.destroy();
          resolve(segments);
          return;
        }
      }
      pending = pending.subarray(pos);
    });
    socket.on('error', reject);
  });
}

export async function benchVici(): Promise<string[]> {
  const out: string[] = [];
  for (const pattern of ['instant', 'charon'] as const) {
    for (const mix of ['concentrator', 'hub'] as const) {
      if (out.length > 0) out.push('');
      out.push(...(await benchViciMix(mix, pattern)));
    }
  }
  return out;
}

const PATTERN_TEXT: Record<WritePattern, string> = {
  instant: 'server writes each answer at once (TCP_NODELAY): the hardest case for the ratios',
  charon: "server writes like charon's vici_socket.c: length and body as two writes per message, Nagle on",
};

const MIX_TEXT: Record<SaMix, string> = {
  concentrator: 'remote-access concentrator: 99% EAP road warriors on one conn',
  hub: 'site-to-site hub: 7,500 conns of one SA each, 2,500 road warriors',
};

async function benchViciMix(mix: SaMix, pattern: WritePattern): Promise<string[]> {
  // Answers encoded once up front, so that every client measured against them (exporter,
  // swanctl, the bare framer) pays the same, minimal, server cost.
  const server = await startViciServer({
    commands: charonCommands({ sas: SAS, mix, conns: 50, pools: 4, leases: 250 }),
    write: pattern,
    recordCommands: false,
  });
  const exporter = await startExporterProcess('modules:\n  vici:\n    prober: strongswan-vici-tcp\n    timeout: 60s\n');
  try {
    const probeUrl = `${exporter.url}/probe?module=vici&target=127.0.0.1:${server.port}`;
    let body = '';
    // Timed: the request and reading the whole answer, as swanctl's run includes reading its output.
    const probe = async () => {
      const res = await fetch(probeUrl);
      body = await res.text();
      if (!body.includes('\nprobe_success 1\n')) throw new Error(`probe failed in the benchmark:\n${body.slice(0, 500)}`);
    };
    // Each probe's own peak over the resident set it started from; the worst of them.
    let peakGrowth = 0;
    const measuredProbe = async () => {
      const before = exporter.rss().current;
      exporter.resetPeak();
      await probe();
      peakGrowth = Math.max(peakGrowth, exporter.rss().peak - before);
    };
    // The exporter probes a gateway every scrape interval for as long as it runs: its steady state
    // is what counts, reached after a few probes of this size (V8 optimises the builders by then).
    // The first, cold probe is reported on its own.
    const firstStarted = performance.now();
    await measuredProbe();
    const firstProbe = (performance.now() - firstStarted) / 1000;
    const probeTime = await medianSeconds(PROBES, measuredProbe, WARMUPS);
    const swanctl = await medianSeconds(3, () => run('swanctl', ['--list-sas', '--raw', '--uri', `tcp://127.0.0.1:${server.port}`], { maxBuffer: 1 << 30 }));
    const floor = await medianSeconds(5, () => frameOnly(server.port));
    // Counted once, untimed: splitting 15 MB of text into lines is the benchmark's bookkeeping.
    const bodyBytes = body.length;
    const series = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
    return [
      `VICI, ${SAS} IKE_SAs with one CHILD_SA each, ${MIX_TEXT[mix]} (median of ${PROBES} after ${WARMUPS} warm-up probes; swanctl of 3);`,
      `  ${PATTERN_TEXT[pattern]}:`,
      `  exporter /probe (fetch, decode, registry, render): ${fmt(probeTime)}  (${series} series, ${mb(bodyBytes)} of text; the first, cold: ${fmt(firstProbe)})`,
      `  swanctl --list-sas --raw:                          ${fmt(swanctl)}`,
      `  floor (frame the segments only):                   ${fmt(floor)}`,
      `  /probe vs swanctl: ${ratio(probeTime, swanctl)} (goal <= 0.35x)   /probe vs floor: ${ratio(probeTime, floor)} (goal <= 5x)`,
      `  exporter peak RSS growth during one probe (worst of ${1 + WARMUPS + PROBES}): ${mb(peakGrowth)} (goal < 100 MB)`,
    ];
  } finally {
    await exporter.stop();
    await server.close();
  }
}
