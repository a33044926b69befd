import net from 'node:net';
import { newMessage, type ViciMessage } from '../../src/transport/vici/message.js';
import { ViciFramer, encodePacket, type Packet } from '../../src/transport/vici/packet.js';
import {
  CMD_REQUEST,
  CMD_RESPONSE,
  CMD_UNKNOWN,
  EVENT,
  EVENT_CONFIRM,
  EVENT_REGISTER,
  EVENT_UNKNOWN,
  EVENT_UNREGISTER,
} from '../../src/transport/vici/wire.js';

export interface ScriptedReply {
  response: ViciMessage;
  /** Streamed before the response, named `eventName`, if the client registered for it. */
  events?: ViciMessage[];
  eventName?: string;
}

export type CommandHandler = (request: ViciMessage) => ScriptedReply;

/**
 * What the server does instead of answering a command:
 * - huge-segment: announces a 4 GiB segment and sends a few bytes of it
 * - endless-events: streams events until the client goes away
 * - stop-mid-message: sends half of the response, then closes
 * - silent: accepts, reads, never answers
 * - garbage: sends bytes that are no VICI packet
 */
export type HostileMode = 'huge-segment' | 'endless-events' | 'stop-mid-message' | 'silent' | 'garbage';

export interface ViciServerOptions {
  commands?: Record<string, CommandHandler>;
  /** Event names clients may register for; others get EVENT_UNKNOWN. */
  events?: string[];
  hostile?: HostileMode;
}

export interface ScriptedViciServer {
  port: number;
  /** Command names received, in order. */
  readonly commands: string[];
  /** Client sockets the server still holds. */
  openConnections(): number;
  close(): Promise<void>;
}

const GARBAGE = Buffer.from([0, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef]);

export async function startViciServer(opts: ViciServerOptions = {}): Promise<ScriptedViciServer> {
  const sockets = new Set<net.Socket>();
  const commands: string[] = [];
  const knownEvents = new Set(opts.events ?? ['list-sa', 'list-conn']);

  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const framer = new ViciFramer();
    const registered = new Set<string>();
    socket.on('data', (chunk: Buffer) => {
      let packets: Packet[];
      try {
        packets = framer.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const packet of packets) handle(socket, packet, registered);
    });
  });

  const handle = (socket: net.Socket, packet: Packet, registered: Set<string>): void => {
    const name = packet.name ?? '';
    if (packet.type === EVENT_REGISTER || packet.type === EVENT_UNREGISTER) {
      if (!knownEvents.has(name)) return void socket.write(encodePacket({ type: EVENT_UNKNOWN }));
      if (packet.type === EVENT_REGISTER) registered.add(name);
      else registered.delete(name);
      return void socket.write(encodePacket({ type: EVENT_CONFIRM }));
    }
    if (packet.type !== CMD_REQUEST) return void socket.destroy();
    commands.push(name);
    const handler = opts.commands?.[name];
    if (opts.hostile !== undefined) return misbehave(socket, opts.hostile, handler, packet, registered);
    if (handler === undefined) return void socket.write(encodePacket({ type: CMD_UNKNOWN }));
    const reply = handler(packet.message ?? newMessage());
    const eventName = reply.eventName ?? [...registered][0];
    if (eventName !== undefined && registered.has(eventName)) {
      for (const event of reply.events ?? []) socket.write(encodePacket({ type: EVENT, name: eventName, message: event }));
    }
    socket.write(encodePacket({ type: CMD_RESPONSE, message: reply.response }));
  };

  const misbehave = (
    socket: net.Socket,
    mode: HostileMode,
    handler: CommandHandler | undefined,
    packet: Packet,
    registered: Set<string>,
  ): void => {
    const reply = handler?.(packet.message ?? newMessage());
    switch (mode) {
      case 'silent':
        return;
      case 'garbage':
        socket.write(GARBAGE);
        return;
      case 'huge-segment': {
        const head = Buffer.alloc(64, 0x41);
        head.writeUInt32BE(0xffffffff, 0);
        head[4] = CMD_RESPONSE;
        socket.write(head);
        return;
      }
      case 'stop-mid-message': {
        const whole = encodePacket({ type: CMD_RESPONSE, message: reply?.response ?? newMessage() });
        socket.end(whole.subarray(0, Math.max(5, whole.length >> 1)));
        return;
      }
      case 'endless-events': {
        const name = reply?.eventName ?? [...registered][0] ?? 'list-sa';
        const event = encodePacket({ type: EVENT, name, message: reply?.events?.[0] ?? newMessage() });
        const batch = Buffer.concat(Array.from({ length: 64 }, () => event));
        const pump = (): void => {
          while (!socket.destroyed && socket.write(batch));
        };
        socket.on('drain', pump);
        pump();
        return;
      }
    }
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    commands,
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
