import { ProtocolError, SizeLimitError } from '../../util/errors.js';
import { readString } from './elements.js';
import { decode, encode, type ViciMessage } from './message.js';
import {
  CMD_REQUEST,
  CMD_RESPONSE,
  CMD_UNKNOWN,
  EVENT,
  EVENT_CONFIRM,
  EVENT_REGISTER,
  EVENT_UNKNOWN,
  EVENT_UNREGISTER,
  MAX_NAME_BYTES,
  MAX_SEGMENT_BYTES,
  type PacketType,
} from './wire.js';

/** One segment. `name` is set exactly for the named types, `message` for those that carry one. */
export interface Packet {
  type: PacketType;
  name?: string;
  message?: ViciMessage;
}

const NAMED: ReadonlySet<number> = new Set([CMD_REQUEST, EVENT_REGISTER, EVENT_UNREGISTER, EVENT]);
const WITH_MESSAGE: ReadonlySet<number> = new Set([CMD_REQUEST, CMD_RESPONSE, EVENT]);
const KNOWN: ReadonlySet<number> = new Set([CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN, EVENT_REGISTER, EVENT_UNREGISTER, EVENT_CONFIRM, EVENT_UNKNOWN, EVENT]);

/** A whole segment including its u32 length prefix, ready to write to a socket. */
export function encodePacket(packet: Packet): Buffer {
  const named = NAMED.has(packet.type);
  const name = named ? Buffer.from(packet.name ?? '', 'utf8') : undefined;
  if (name !== undefined && name.length > MAX_NAME_BYTES) {
    throw new ProtocolError(`VICI packet name is ${name.length} bytes, over ${MAX_NAME_BYTES}`);
  }
  const body = WITH_MESSAGE.has(packet.type) && packet.message !== undefined ? encode(packet.message) : undefined;
  const nameLen = name === undefined ? 0 : 1 + name.length;
  const segment = 1 + nameLen + (body?.length ?? 0);
  const out = Buffer.allocUnsafe(4 + segment);
  out.writeUInt32BE(segment, 0);
  out[4] = packet.type;
  if (name !== undefined) {
    out[5] = name.length;
    name.copy(out, 6);
  }
  body?.copy(out, 5 + nameLen);
  return out;
}

/** One segment as it came: its message body, if any, not decoded yet. */
export interface RawPacket {
  type: PacketType;
  name?: string;
  body?: Buffer;
}

/**
 * Splits one segment (without its length prefix), `segment[start, end)`, into type, name and
 * body; the body is a view of `segment`. Taking the bounds rather than a view of the segment
 * saves a view per packet: a large list-sas is tens of thousands of them.
 */
export function splitPacket(segment: Buffer, start = 0, end = segment.length): RawPacket {
  const length = end - start;
  if (length === 0) throw new ProtocolError('malformed VICI packet: empty segment');
  const type = segment[start]!;
  if (!KNOWN.has(type)) throw new ProtocolError(`malformed VICI packet: unknown packet type ${type} at byte 0`);
  const packet: RawPacket = { type: type as PacketType };
  let pos = 1;
  if (NAMED.has(type)) {
    if (length < 2) throw new ProtocolError('malformed VICI packet: truncated name length at byte 1');
    const len = segment[start + 1]!;
    if (2 + len > length) {
      throw new ProtocolError(`malformed VICI packet: name of ${len} bytes runs past the end at byte 1`);
    }
    packet.name = readString(segment, start + 2, start + 2 + len);
    pos = 2 + len;
  }
  if (WITH_MESSAGE.has(type)) {
    packet.body = segment.subarray(start + pos, end);
  } else if (pos !== length) {
    throw new ProtocolError(`malformed VICI packet: ${length - pos} trailing bytes after type ${type} at byte ${pos}`);
  }
  return packet;
}

/** A split packet with its body decoded. */
export function decodeRaw({ type, name, body }: RawPacket): Packet {
  const packet: Packet = { type };
  if (name !== undefined) packet.name = name;
  if (body !== undefined) packet.message = decode(body);
  return packet;
}

/** Decodes one segment without its length prefix. */
export function decodePacket(segment: Buffer): Packet {
  return decodeRaw(splitPacket(segment));
}

/**
 * Reassembles segments from a byte stream. It refuses an oversized segment as
 * soon as the 4-byte header is in, so a peer announcing gigabytes costs nothing,
 * and it holds at most the segment being assembled plus the chunk being read.
 */
export class ViciFramer {
  private readonly header = Buffer.alloc(4);
  private headerFill = 0;
  private segment: Buffer | undefined;
  private segmentFill = 0;

  constructor(readonly maxSegmentBytes: number = MAX_SEGMENT_BYTES) {}

  /** Bytes of an incomplete segment held so far, header included; 0 between segments. */
  get pendingBytes(): number {
    return this.headerFill + this.segmentFill;
  }

  /** Returns every segment that the chunk completes, decoded. */
  push(chunk: Buffer): Packet[] {
    return this.pushRaw(chunk).map(decodeRaw);
  }

  /**
   * Returns every segment that the chunk completes, split but not decoded: a whole segment
   * inside the chunk is a view of it, one assembled across chunks a copy of its own.
   */
  pushRaw(chunk: Buffer): RawPacket[] {
    const out: RawPacket[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.segment === undefined) {
        // Fast path: a whole segment inside the chunk is split in place, no copy.
        if (this.headerFill === 0 && chunk.length - pos >= 4) {
          const len = this.checkLength(chunk.readUInt32BE(pos));
          if (chunk.length - pos - 4 >= len) {
            out.push(splitPacket(chunk, pos + 4, pos + 4 + len));
            pos += 4 + len;
            continue;
          }
          this.startSegment(len);
          this.headerFill = 4;
          pos += 4;
          continue;
        }
        const take = Math.min(4 - this.headerFill, chunk.length - pos);
        chunk.copy(this.header, this.headerFill, pos, pos + take);
        this.headerFill += take;
        pos += take;
        if (this.headerFill === 4) this.startSegment(this.checkLength(this.header.readUInt32BE(0)));
        continue;
      }
      const segment = this.segment;
      const take = Math.min(segment.length - this.segmentFill, chunk.length - pos);
      chunk.copy(segment, this.segmentFill, pos, pos + take);
      this.segmentFill += take;
      pos += take;
      if (this.segmentFill === segment.length) {
        this.segment = undefined;
        this.segmentFill = 0;
        this.headerFill = 0;
        out.push(splitPacket(segment));
      }
    }
    return out;
  }

  private checkLength(len: number): number {
    if (len > this.maxSegmentBytes) {
      throw new SizeLimitError(`VICI peer announced a segment of ${len} bytes, over the limit of ${this.maxSegmentBytes}`);
    }
    if (len === 0) throw new ProtocolError('malformed VICI packet: zero-length segment');
    return len;
  }

  private startSegment(len: number): void {
    this.segment = Buffer.allocUnsafe(len);
    this.segmentFill = 0;
  }
}
