import type { Duplex } from 'node:stream';
import type { ProbeLog } from '../../log/probe-log.js';
import { abortReason, onAbort } from '../../util/abort.js';
import { connectTcp, socketError } from '../tcp.js';
import { ProbeError, ProtocolError, SizeLimitError } from '../../util/errors.js';
import type { ViciMessage } from './message.js';
import { ViciFramer, encodePacket, type Packet } from './packet.js';
import { CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN, EVENT, EVENT_CONFIRM, EVENT_REGISTER, EVENT_UNKNOWN, EVENT_UNREGISTER, MAX_SEGMENT_BYTES } from './wire.js';

/** Bounds on one session, whatever carries it. */
export interface ViciLimits {
  /** Largest segment accepted from charon; checked at the header. Default 512 KiB. */
  maxSegmentBytes?: number;
  /** Bytes received per command, events included. Default 256 MiB. */
  maxResponseBytes?: number;
  /** Events accepted per streamed command before it fails with SizeLimitError. Default 1,000,000. */
  maxEvents?: number;
}

export interface ViciConnectOptions extends ViciLimits {
  host: string;
  port: number;
  signal: AbortSignal;
  log: ProbeLog;
}

const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
const DEFAULT_MAX_EVENTS = 1_000_000;

interface Waiter {
  resolve(packet: Packet): void;
  reject(err: Error): void;
}

/**
 * A VICI session with charon over TCP (connect) or any other byte stream (over).
 *
 * Commands run one at a time per connection, as the protocol requires; a call
 * made while another is in flight waits its turn (its own signal can cancel
 * the wait without disturbing the running command). Once a command is aborted,
 * exceeds a bound or meets a protocol error, the socket is destroyed and every
 * later call fails with that same error: the stream's position is unknown, so
 * the connection cannot be reused.
 */
export class ViciClient {
  private readonly framer: ViciFramer;
  private readonly inbox: Packet[] = [];
  private waiter: Waiter | undefined;
  private failure: Error | undefined;
  private busy = false;
  private turn: Promise<void> = Promise.resolve();
  private received = 0;

  private constructor(
    private readonly socket: Duplex,
    private readonly where: string,
    private readonly log: ProbeLog,
    maxSegmentBytes: number,
    private readonly maxResponseBytes: number,
    private readonly maxEvents: number,
  ) {
    this.framer = new ViciFramer(maxSegmentBytes);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(socketError(err, this.where)));
    socket.on('close', () => this.fail(this.closedError()));
  }

  static async connect(opts: ViciConnectOptions): Promise<ViciClient> {
    const socket = await connectTcp(opts);
    return ViciClient.over(socket, `${opts.host}:${opts.port}`, opts.log, opts);
  }

  /**
   * A session on a stream that is already open (an SSH channel to charon's unix socket, a
   * bridge command's stdio). `where` names the peer in errors. The client owns the stream
   * from here on and destroys it on close or failure.
   */
  static over(stream: Duplex, where: string, log: ProbeLog, limits: ViciLimits = {}): ViciClient {
    return new ViciClient(
      stream,
      where,
      log,
      limits.maxSegmentBytes ?? MAX_SEGMENT_BYTES,
      limits.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      limits.maxEvents ?? DEFAULT_MAX_EVENTS,
    );
  }

  /** Runs a command and returns its response message. */
  request(command: string, message: ViciMessage | undefined, signal: AbortSignal): Promise<ViciMessage> {
    return this.exclusive(command, signal, async () => {
      this.send({ type: CMD_REQUEST, name: command, message });
      return this.awaitResponse(command, signal, undefined);
    });
  }

  /**
   * Runs a command that answers with a stream of `eventName` events (list-sas,
   * list-conns…): registers for the event, hands each event to `onEvent` as it
   * arrives, and returns the command's response once it has unregistered. Nothing
   * is collected here: a caller that turns events into its own records lets the
   * decoded messages die young, which for a large list-sas is most of the garbage
   * collector's work. A throw from `onEvent` fails the command.
   */
  streamedRequest(
    command: string,
    eventName: string,
    message: ViciMessage | undefined,
    signal: AbortSignal,
    onEvent: (message: ViciMessage) => void,
  ): Promise<ViciMessage> {
    const maxEvents = this.maxEvents;
    return this.exclusive(command, signal, async () => {
      await this.eventRegistration(EVENT_REGISTER, eventName, signal);
      let count = 0;
      this.send({ type: CMD_REQUEST, name: command, message });
      let response: ViciMessage;
      try {
        response = await this.awaitResponse(command, signal, (event) => {
          if (event.name !== eventName) throw new ProtocolError(`unexpected event "${event.name}" during ${command}`);
          if (++count > maxEvents) {
            throw new SizeLimitError(`${command} streamed more than ${maxEvents} "${eventName}" events`);
          }
          onEvent(event.message!);
        });
      } catch (err) {
        // An unknown command leaves the session intact; unregister so it stays usable.
        if (this.failure === undefined) await this.eventRegistration(EVENT_UNREGISTER, eventName, signal);
        throw err;
      }
      await this.eventRegistration(EVENT_UNREGISTER, eventName, signal);
      return response;
    });
  }

  /** Idempotent; safe after errors and aborts. */
  close(): void {
    this.fail(new ProbeError(`vici connection to ${this.where} was closed`));
  }

  private async exclusive<T>(command: string, signal: AbortSignal, run: () => Promise<T>): Promise<T> {
    const previous = this.turn;
    let release!: () => void;
    this.turn = new Promise<void>((resolve) => (release = resolve));
    let running = false;
    try {
      await waitOrAbort(previous, signal);
      if (this.failure !== undefined) throw this.failure;
      if (signal.aborted) throw abortReason(signal);
      this.busy = running = true;
      this.received = 0;
      const started = performance.now();
      try {
        const result = await run();
        this.log.debug('vici command', { command, bytes: this.received, ms: Math.round(performance.now() - started) });
        return result;
      } catch (err) {
        this.log.debug('vici command failed', {
          command,
          bytes: this.received,
          ms: Math.round(performance.now() - started),
          error: (err as Error).message,
        });
        throw err;
      }
    } finally {
      if (running) this.busy = false;
      // A caller that gave up waiting must still not let the next one overtake the running command.
      void previous.then(release);
    }
  }

  private send(packet: Packet): void {
    if (this.failure !== undefined) throw this.failure;
    this.socket.write(encodePacket(packet));
  }

  private async eventRegistration(type: typeof EVENT_REGISTER | typeof EVENT_UNREGISTER, name: string, signal: AbortSignal): Promise<void> {
    this.send({ type, name });
    for (;;) {
      const packet = await this.receive(signal);
      if (packet.type === EVENT_CONFIRM) return;
      if (packet.type === EVENT_UNKNOWN) throw new ProtocolError(`unknown event ${name}`);
      // Events already in flight may still arrive before charon confirms an unregistration.
      if (packet.type === EVENT && type === EVENT_UNREGISTER && packet.name === name) continue;
      throw this.kill(new ProtocolError(`unexpected VICI packet type ${packet.type} while registering for ${name}`));
    }
  }

  private async awaitResponse(command: string, signal: AbortSignal, onEvent: ((event: Packet) => void) | undefined): Promise<ViciMessage> {
    for (;;) {
      const packet = await this.receive(signal);
      if (packet.type === CMD_RESPONSE) return packet.message!;
      if (packet.type === CMD_UNKNOWN) throw new ProtocolError(`unknown command ${command}`);
      if (packet.type === EVENT && onEvent !== undefined) {
        try {
          onEvent(packet);
        } catch (err) {
          throw this.kill(err as Error);
        }
        continue;
      }
      throw this.kill(new ProtocolError(`unexpected VICI packet type ${packet.type} while waiting for ${command}`));
    }
  }

  private receive(signal: AbortSignal): Promise<Packet> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<Packet>((resolve, reject) => {
      const dispose = onAbort(signal, (reason) => this.fail(reason));
      this.waiter = {
        resolve: (packet) => {
          dispose();
          resolve(packet);
        },
        reject: (err) => {
          dispose();
          reject(err);
        },
      };
    });
  }

  private onData(chunk: Buffer): void {
    if (this.failure !== undefined) return;
    this.received += chunk.length;
    try {
      if (!this.busy) throw new ProtocolError(`VICI peer ${this.where} sent ${chunk.length} bytes unasked`);
      if (this.received > this.maxResponseBytes) {
        throw new SizeLimitError(`VICI response from ${this.where} exceeds the limit of ${this.maxResponseBytes} bytes`);
      }
      for (const packet of this.framer.push(chunk)) this.deliver(packet);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private deliver(packet: Packet): void {
    const waiter = this.waiter;
    if (waiter === undefined) {
      this.inbox.push(packet);
      return;
    }
    this.waiter = undefined;
    waiter.resolve(packet);
  }

  /** Marks the connection dead and destroys the socket; the first failure wins. */
  private fail(err: Error): void {
    if (this.failure === undefined) {
      this.failure = err;
      this.inbox.length = 0;
      this.socket.destroy();
    }
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.failure);
  }

  private kill(err: Error): Error {
    this.fail(err);
    return this.failure ?? err;
  }

  private closedError(): ProbeError {
    const pending = this.framer.pendingBytes;
    if (pending > 0) return new ProbeError(`vici connection to ${this.where} closed mid-segment after ${pending} bytes`, { kind: 'connection_lost' });
    return new ProbeError(`vici connection closed by ${this.where}`, { kind: 'connection_lost' });
  }
}

function waitOrAbort(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const dispose = onAbort(signal, reject);
    void promise.then(() => {
      dispose();
      resolve();
    });
  });
}
