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

/**
 * A VICI server whose answers are encoded once up front, so that every client measured
 * against it (exporter, swanctl, the bare framer) pays the same, minimal, server cost.
 */
export async function startBenchViciServer(answers: {
  responses: Record<string, ViciMessage>;
  streams: Record<string, { event: string; events: ViciMessage[] }>;
}): Promise<BenchViciServer> {
  const responses = new Map(Object.entries(answers.responses).map(([k, v]) => [k, encodePacket({ type: CMD_RESPONSE, message: v })]));
  const streams = new Map(
    Object.entries(answers.streams).map(([cmd, s]) => [
      cmd,
      { event: s.event, packets: Buffer.concat(s.events.map((m) => encodePacket({ type: EVENT, name: s.event, message: m }))) },
    ]),
  );
  const emptyResponse = encodePacket({ type: CMD_RESPONSE, message: {} as ViciMessage });
  const confirm = encodePacket({ type: EVENT_CONFIRM });
  const unknown = encodePacket({ type: CMD_UNKNOWN });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const registered = new Set<string>();
    const framer = new ViciFramer(1 << 20);
    socket.on('data', (chunk: Buffer) => {
      for (const p of framer.push(chunk)) {
        if (p.type === EVENT_REGISTER && p.name) {
          registered.add(p.name);
          socket.write(confirm);
        } else if (p.type === EVENT_UNREGISTER && p.name) {
          registered.delete(p.name);
          socket.write(confirm);
        } else if (p.type === CMD_REQUEST && p.name) {
          const stream = streams.get(p.name);
          if (stream) {
            if (registered.has(stream.event)) socket.write(stream.packets);
            socket.write(emptyResponse);
          } else {
            socket.write(responses.get(p.name) ?? unknown);
          }
        }
      }
    });
  });
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
