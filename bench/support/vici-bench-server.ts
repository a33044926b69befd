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
  streams: Map<string, { event: string; packets: Buffer }>;
}

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
      Object.entries(answers.streams).map(([cmd, s]) => [
        cmd,
        { event: s.event, packets: Buffer.concat(s.events.map((m) => encodePacket({ type: EVENT, name: s.event, message: m }))) },
      ]),
    ),
  };
}

/** A TCP server answering VICI from encoded answers; `sockets` tracks its clients for shutdown. */
export function answeringServer(answers: EncodedAnswers, sockets: Set<net.Socket>): net.Server {
  return net.createServer((socket) => {
    socket.setNoDelay(true);
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
          socket.write(confirm);
        } else if (p.type === EVENT_UNREGISTER && p.name) {
          registered.delete(p.name);
          socket.write(confirm);
        } else if (p.type === CMD_REQUEST && p.name) {
          const stream = answers.streams.get(p.name);
          if (stream) {
            if (registered.has(stream.event)) socket.write(stream.packets);
            socket.write(emptyResponse);
          } else {
            socket.write(answers.responses.get(p.name) ?? unknown);
          }
        }
      }
    });
  });
}

export async function startBenchViciServer(answers: ViciAnswers): Promise<BenchViciServer> {
  const sockets = new Set<net.Socket>();
  const server = answeringServer(encodeAnswers(answers), sockets);
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
