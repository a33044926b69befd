// A scripted VICI gateway on TCP, for tests, benchmarks and the fleet bench: it frames requests,
// answers commands from handlers, streams events to clients that registered for them, and can
// write as charon does or misbehave on purpose.
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

/** A command's answer. Treated as immutable: a handler that returns the same object every time is encoded once. */
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

/**
 * How the server puts its answers on the socket.
 * - `instant`: one write for the events and one for the response, TCP_NODELAY: the cheapest a
 *   server can be, so every client's own cost shows in full.
 * - `charon`: what charon's vici_socket.c does: every message is two write() calls (the
 *   4-byte length, then the body) on a socket without TCP_NODELAY, and when the socket
 *   buffer is full the next message waits until it drains.
 */
export type WritePattern = 'instant' | 'charon';

export interface ViciServerOptions {
  commands?: Record<string, CommandHandler>;
  /** Event names clients may register for; others get EVENT_UNKNOWN. */
  events?: string[];
  hostile?: HostileMode;
  write?: WritePattern;
  /** Default 127.0.0.1 and a free port. */
  host?: string;
  port?: number;
  /** Pending connections the kernel queues: a fleet's probes connect in bursts. */
  backlog?: number;
  /** Keeps the name of every command received (default); a long benchmark turns it off. */
  recordCommands?: boolean;
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
const CONFIRM = encodePacket({ type: EVENT_CONFIRM });
const UNKNOWN_EVENT = encodePacket({ type: EVENT_UNKNOWN });
const UNKNOWN_COMMAND = encodePacket({ type: CMD_UNKNOWN });

/** A reply as packets: the events one by one and joined, and the response. */
interface Wire {
  eventName: string | undefined;
  each: Buffer[];
  joined: Buffer;
  response: Buffer;
}

/** Encoded replies, so that a gateway answering from fixed replies costs framing and writing only. */
const wires = new WeakMap<ScriptedReply, Wire>();

function wireOf(reply: ScriptedReply, registered: Set<string>): Wire {
  const cached = wires.get(reply);
  if (cached) return cached;
  const eventName = reply.eventName ?? [...registered][0];
  const each = eventName === undefined ? [] : (reply.events ?? []).map((message) => encodePacket({ type: EVENT, name: eventName, message }));
  const wire = { eventName, each, joined: Buffer.concat(each), response: encodePacket({ type: CMD_RESPONSE, message: reply.response }) };
  // Without its own event name the packets depend on what this client registered.
  if (reply.eventName !== undefined || each.length === 0) wires.set(reply, wire);
  return wire;
}

export async function startViciServer(opts: ViciServerOptions = {}): Promise<ScriptedViciServer> {
  const sockets = new Set<net.Socket>();
  const commands: string[] = [];
  const knownEvents = new Set(opts.events ?? ['list-sa', 'list-conn']);
  const pattern = opts.write ?? 'instant';

  const server = net.createServer((socket) => {
    if (pattern === 'instant') socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // charon answers one request at a time per connection, in order.
    let queue = Promise.resolve();
    const send = (packets: Buffer[]): void => {
      if (pattern === 'charon') queue = queue.then(() => writeLikeCharon(socket, packets));
      else for (const p of packets) if (p.length > 0) socket.write(p);
    };
    const framer = new ViciFramer();
    const registered = new Set<string>();
    // charon answers a connection's messages in strict order: once a hostile server has
    // misbehaved on a command, nothing it was sent after that command gets an answer either.
    let spoiled = false;
    socket.on('data', (chunk: Buffer) => {
      let packets: Packet[];
      try {
        packets = framer.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const packet of packets) {
        if (spoiled) return;
        spoiled = handle(socket, send, packet, registered);
      }
    });
  });

  /** Answers one packet; true once the server misbehaved on it. */
  const handle = (socket: net.Socket, send: (packets: Buffer[]) => void, packet: Packet, registered: Set<string>): boolean => {
    const name = packet.name ?? '';
    if (packet.type === EVENT_REGISTER || packet.type === EVENT_UNREGISTER) {
      if (!knownEvents.has(name)) {
        send([UNKNOWN_EVENT]);
        return false;
      }
      if (packet.type === EVENT_REGISTER) registered.add(name);
      else registered.delete(name);
      send([CONFIRM]);
      return false;
    }
    if (packet.type !== CMD_REQUEST) {
      socket.destroy();
      return true;
    }
    if (opts.recordCommands !== false) commands.push(name);
    const handler = opts.commands?.[name];
    if (opts.hostile !== undefined) {
      misbehave(socket, opts.hostile, handler, packet, registered);
      return true;
    }
    if (handler === undefined) {
      send([UNKNOWN_COMMAND]);
      return false;
    }
    const wire = wireOf(handler(packet.message ?? newMessage()), registered);
    if (wire.eventName === undefined || !registered.has(wire.eventName)) {
      send([wire.response]);
      return false;
    }
    send(pattern === 'charon' ? [...wire.each, wire.response] : [wire.joined, wire.response]);
    return false;
  };

  const misbehave = (socket: net.Socket, mode: HostileMode, handler: CommandHandler | undefined, packet: Packet, registered: Set<string>): void => {
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

  await new Promise<void>((resolve, reject) => {
    const host = opts.host ?? '127.0.0.1';
    server.once('error', (err) => reject(new Error(`cannot listen on ${host}:${opts.port ?? 0}: ${err.message}`)));
    server.listen({ host, port: opts.port ?? 0, backlog: opts.backlog }, resolve);
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    commands,
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
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
