import type { Duplex } from 'node:stream';
import type { ProbeLog } from '../../log/probe-log.js';
import { abortReason, onAbort, waitOrAbort } from '../../util/abort.js';
import { connectTcp, socketError } from '../tcp.js';
import { ProbeError, ProtocolError, SizeLimitError, errorMessage } from '../../util/errors.js';
import { decode, type ViciMessage } from './message.js';
import { ViciFramer, encodePacket, type RawPacket } from './packet.js';
import { CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN, EVENT, EVENT_CONFIRM, EVENT_REGISTER, EVENT_UNKNOWN, EVENT_UNREGISTER, MAX_SEGMENT_BYTES } from './wire.js';

/** Bounds on one session, whatever carries it. */
export interface ViciLimits {
  /** Largest segment accepted from charon; checked at the header. Default 512 KiB. */
  maxSegmentBytes?: number;
  /** Bytes received per call (a pipeline counts as one), events included. Default 256 MiB. */
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

/**
 * What a streamed command does with each event: `onEvent` takes it decoded; `onRawEvent`
 * takes the message body as bytes, for a caller with a decoder of its own for a large
 * stream. The bytes are a view of what the socket read: valid during the call only.
 */
export type ViciStream = { event: string; onEvent(message: ViciMessage): void } | { event: string; onRawEvent(body: Buffer): void };

/** One command of a pipeline; `stream` for those that answer with events (list-sas…). */
export interface ViciCommand {
  command: string;
  message?: ViciMessage | undefined;
  stream?: ViciStream;
}

interface Waiter {
  resolve(packet: RawPacket): void;
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
  private readonly inbox: RawPacket[] = [];
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
  async request(command: string, message: ViciMessage | undefined, signal: AbortSignal): Promise<ViciMessage> {
    const [answer] = await this.pipeline([{ command, message }], signal);
    if (answer instanceof Error) throw answer;
    return answer!;
  }

  /**
   * Runs a command that answers with a stream of `eventName` events (list-sas,
   * list-conns…): registers for the event, hands each event to `onEvent` as it
   * arrives, and returns the command's response once it has unregistered.
   */
  async streamedRequest(
    command: string,
    eventName: string,
    message: ViciMessage | undefined,
    signal: AbortSignal,
    onEvent: (message: ViciMessage) => void,
  ): Promise<ViciMessage> {
    const [answer] = await this.pipeline([{ command, message, stream: { event: eventName, onEvent } }], signal);
    if (answer instanceof Error) throw answer;
    return answer!;
  }

  /**
   * Sends every command at once and reads the answers in order: one round trip for all of
   * them instead of one (or three, with event registration) per command. charon handles
   * one connection's messages in strict order (vici_socket.c queues them per connection),
   * so the answers come back as the requests went out.
   *
   * A streamed command is sent as register, request, unregister. Nothing is collected
   * here: a caller that turns events into its own records lets the decoded messages die
   * young, which for a large list-sas is most of the garbage collector's work, or with
   * onRawEvent reads its records from the bytes and builds no message at all. A throw
   * from `onEvent` fails the session.
   *
   * An unknown command or event (an older daemon, a VICI proxy) is that command's answer,
   * a ProtocolError in its slot, and the session goes on; anything else fails them all.
   */
  pipeline(commands: readonly ViciCommand[], signal: AbortSignal): Promise<(ViciMessage | ProtocolError)[]> {
    return this.exclusive(signal, async () => {
      const packets: Buffer[] = [];
      for (const { command, message, stream } of commands) {
        if (stream !== undefined) packets.push(encodePacket({ type: EVENT_REGISTER, name: stream.event }));
        packets.push(encodePacket({ type: CMD_REQUEST, name: command, message }));
        if (stream !== undefined) packets.push(encodePacket({ type: EVENT_UNREGISTER, name: stream.event }));
      }
      this.send(packets.length === 1 ? packets[0]! : Buffer.concat(packets));
      const answers: (ViciMessage | ProtocolError)[] = [];
      // Logged one by one, as each answer completes: bytes and time since the previous one.
      let bytes = 0;
      let since = performance.now();
      for (const c of commands) {
        try {
          answers.push(await this.answer(c, signal));
        } catch (err) {
          this.log.debug('vici command failed', {
            command: c.command,
            bytes: this.received - bytes,
            ms: Math.round(performance.now() - since),
            error: errorMessage(err),
          });
          throw err;
        }
        const now = performance.now();
        this.log.debug('vici command', { command: c.command, bytes: this.received - bytes, ms: Math.round(now - since) });
        bytes = this.received;
        since = now;
      }
      return answers;
    });
  }

  /** Idempotent; safe after errors and aborts. */
  close(): void {
    this.fail(new ProbeError(`vici connection to ${this.where} was closed`));
  }

  private async exclusive<T>(signal: AbortSignal, run: () => Promise<T>): Promise<T> {
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
      return await run();
    } finally {
      if (running) this.busy = false;
      // A caller that gave up waiting must still not let the next one overtake the running command.
      void previous.then(release);
    }
  }

  private send(bytes: Buffer): void {
    if (this.failure !== undefined) throw this.failure;
    this.socket.write(bytes);
  }

  /** Reads one command's answers: registration, events, response, unregistration. */
  private async answer({ command, stream }: ViciCommand, signal: AbortSignal): Promise<ViciMessage | ProtocolError> {
    let refused: ProtocolError | undefined;
    if (stream !== undefined) {
      const reply = await this.receive(signal);
      if (reply.type === EVENT_UNKNOWN) refused = new ProtocolError(`unknown event ${stream.event}`);
      else if (reply.type !== EVENT_CONFIRM) throw this.unexpected(reply, `registering for ${stream.event}`);
    }
    let response: ViciMessage | undefined;
    let count = 0;
    for (;;) {
      // Packets already framed are taken without a promise each: a large list-sas is
      // tens of thousands of events, most of them read from the same chunk.
      const packet = this.inbox.shift() ?? (await this.receive(signal));
      if (packet.type === CMD_RESPONSE) {
        response = this.decoded(packet);
        break;
      }
      if (packet.type === CMD_UNKNOWN) {
        refused ??= new ProtocolError(`unknown command ${command}`);
        break;
      }
      if (packet.type !== EVENT || stream === undefined || refused !== undefined) throw this.unexpected(packet, `waiting for ${command}`);
      if (packet.name !== stream.event) throw this.kill(new ProtocolError(`unexpected event "${packet.name}" during ${command}`));
      if (++count > this.maxEvents) {
        throw this.kill(new SizeLimitError(`${command} streamed more than ${this.maxEvents} "${stream.event}" events`));
      }
      try {
        if ('onRawEvent' in stream) stream.onRawEvent(packet.body!);
        else stream.onEvent(decode(packet.body!));
      } catch (err) {
        throw this.kill(err as Error);
      }
    }
    if (stream !== undefined) {
      for (;;) {
        const reply = await this.receive(signal);
        if (reply.type === EVENT_CONFIRM || reply.type === EVENT_UNKNOWN) break;
        // Events already in flight may still arrive before charon confirms an unregistration.
        if (reply.type === EVENT && reply.name === stream.event && refused === undefined) continue;
        throw this.unexpected(reply, `unregistering from ${stream.event}`);
      }
    }
    return refused ?? response!;
  }

  /** A malformed message leaves the stream's position unknown: it fails the session. */
  private decoded(packet: RawPacket): ViciMessage {
    try {
      return decode(packet.body!);
    } catch (err) {
      throw this.kill(err as Error);
    }
  }

  private unexpected(packet: RawPacket, when: string): Error {
    const what = packet.type === EVENT ? `event "${packet.name}"` : `VICI packet type ${packet.type}`;
    return this.kill(new ProtocolError(`unexpected ${what} while ${when}`));
  }

  private receive(signal: AbortSignal): Promise<RawPacket> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<RawPacket>((resolve, reject) => {
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
      for (const packet of this.framer.pushRaw(chunk)) this.deliver(packet);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private deliver(packet: RawPacket): void {
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
