import net from 'node:net';
import { ViciFramer, encodePacket } from '../../src/transport/vici/packet.js';
import {
  CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN, EVENT, EVENT_CONFIRM, EVENT_REGISTER, EVENT_UNREGISTER,
} from '../../src/transport/vici/wire.js';
import type { ViciMessage } from '../../src/transport/vici/message.js';

export interface BenchViciServer {
  port: number;
  close(): Promise<void>;
}

/** A gateway's answers: plain commands, and streamed commands with the events they stream. */
export interface ViciAnswers {
  responses: Record<string, ViciMessage>;
  streams: Record<string, { event: string; events: ViciMessage[] }>;
}

export interface EncodedAnswers {
  responses: Map<string, Buffer>;
  /** `packets` is the whole stream in one buffer; `each` the same packets one by one. */
  streams: Map<string, { event: string; packets: Buffer; each: Buffer[] }>;
}

/**
 * How the server puts its answers on the socket.
 * - `instant`: one write per answer, TCP_NODELAY: the cheapest a server can be, so every
 *   client's own cost shows in full.
 * - `charon`: what charon's vici_socket.c does: every message is two write() calls (the
 *   4-byte length, then the body) on a socket without TCP_NODELAY, and when the socket
 *   buffer is full the next message waits until it drains.
 */
export type WritePattern = 'instant' | 'charon';

const confirm = encodePacket({ type: EVENT_CONFIRM });
const unknown = encodePacket({ type: CMD_UNKNOWN });
const emptyResponse = encodePacket({ type: CMD_RESPONSE, message: {} as ViciMessage });

/**
 * Encoded once up front, so that every client measured against these answers (exporter,
 * swanctl, the bare framer) pays the same, minimal, server cost.
 */
export function encodeAnswers(answers: ViciAnswers): EncodedAnswers {
  return {
    responses: new Map(Object.entries(answers.responses).map(([k, v]) => [k, encodePacket({ type: CMD_RESPONSE, message: v })])),
    streams: new Map(
      Object.entries(answers.streams).map(([cmd, s]) => {
        const each = s.events.map((m) => encodePacket({ type: EVENT, name: s.event, message: m }));
        return [cmd, { event: s.event, packets: Buffer.concat(each), each }];
      }),
    ),
  };
}

/** Writes packets as charon does: length and body apart, waiting for the buffer to drain when full. */
async function writeLikeCharon(socket: net.Socket, packets: Buffer[]): Promise<void> {
  for (const packet of packets) {
    if (socket.destroyed) return;
    socket.write(packet.subarray(0, 4));
    if (!socket.write(packet.subarray(4))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    }
  }
}

/** A TCP server answering VICI from encoded answers; `sockets` tracks its clients for shutdown. */
export function answeringServer(answers: EncodedAnswers, sockets: Set<net.Socket>, pattern: WritePattern = 'instant'): net.Server {
  return net.createServer((socket) => {
    if (pattern === 'instant') socket.setNoDelay(true);
    // charon answers one request at a time per connection, in order.
    let queue = Promise.resolve();
    const send = (packets: Buffer[]) => {
      if (pattern === 'instant') for (const p of packets) socket.write(p);
      else queue = queue.then(() => writeLikeCharon(socket, packets));
    };
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const registered = new Set<string>();
    const framer = new ViciFramer(1 << 20);
    socket.on('data', (chunk: Buffer) => {
      let packets;
      try {
        packets = framer.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const p of packets) {
        if (p.type === EVENT_REGISTER && p.name) {
          registered.add(p.name);
          send([confirm]);
        } else if (p.type === EVENT_UNREGISTER && p.name) {
          registered.delete(p.name);
          send([confirm]);
        } else if (p.type === CMD_REQUEST && p.name) {
          const stream = answers.streams.get(p.name);
          if (stream) {
            const events = registered.has(stream.event) ? (pattern === 'instant' ? [stream.packets] : stream.each) : [];
            send([...events, emptyResponse]);
          } else {
            send([answers.responses.get(p.name) ?? unknown]);
          }
        }
      }
    });
  });
}

export async function startBenchViciServer(answers: ViciAnswers, pattern: WritePattern = 'instant'): Promise<BenchViciServer> {
  const sockets = new Set<net.Socket>();
  const server = answeringServer(encodeAnswers(answers), sockets, pattern);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
