import { ProtocolError } from '../../util/errors.js';
import { readString } from './elements.js';
import { KEY_VALUE, LIST_END, LIST_ITEM, LIST_START, MAX_NAME_BYTES, MAX_VALUE_BYTES, SECTION_END, SECTION_START } from './wire.js';

export type ViciValue = string | string[] | ViciMessage;

/**
 * A VICI message body. Always a null-prototype object, so keys such as
 * "__proto__" or "constructor" sent by a peer are plain data.
 *
 * Keys keep wire order, with the one exception every JS object has: keys that
 * are array indices ("0", "17") enumerate first, in ascending order. charon's
 * index-keyed sections (get-pools leases) are emitted ascending, so nothing
 * observable changes for its output.
 *
 * Duplicate keys in one section: the later element replaces the earlier one
 * at the earlier one's position. charon 5.9 never emits a duplicate (it keys
 * CHILD_SAs as "<name>-<uniqueid>" precisely to avoid them), and last-wins is
 * what libvici's own dictionary-style readers and the Python binding do.
 */
export interface ViciMessage {
  [key: string]: ViciValue;
}

// Instances of a constructor whose prototype is an empty null-prototype object:
// nothing is inherited and "__proto__" is a plain own key (its setter lives on
// Object.prototype, which is not in the chain). Unlike Object.create(null), such
// objects start in V8's fast mode, which roughly halves list-sas decode time.
const Message = function Message(this: ViciMessage) {} as unknown as new () => ViciMessage;
Message.prototype = Object.create(null) as object;

export function newMessage(): ViciMessage {
  return new Message();
}

/** Builds a null-prototype message from ordinary object literals (tests, requests). */
export function toMessage(fields: Record<string, ViciValue | Record<string, unknown>>): ViciMessage {
  const out = newMessage();
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value)) out[key] = value.map(String);
    else if (value !== undefined && value !== null) out[key] = toMessage(value as Record<string, ViciValue>);
  }
  return out;
}

/** The one key whose value charon sends as raw bytes (list-cert, list-authorities). */
const BINARY_KEY = 'data';

function malformed(reason: string, offset: number): ProtocolError {
  return new ProtocolError(`malformed VICI message: ${reason} at byte ${offset}`);
}

/** Decodes a message body. Strings as readString() reads them, except the binary "data". */
export function decode(buf: Buffer): ViciMessage {
  const root = newMessage();
  const parents: ViciMessage[] = [];
  let current = root;
  let list: string[] | undefined;
  const end = buf.length;
  let pos = 0;

  // Length parsing is inlined rather than put in helpers: closures sharing
  // `pos` would move it to the heap and cost a third of the decode time.
  while (pos < end) {
    const at = pos;
    const type = buf[pos++]!;
    let key = '';
    if (type === SECTION_START || type === KEY_VALUE || type === LIST_START) {
      if (list !== undefined) throw malformed(`element type ${type} inside a list`, at);
      if (pos >= end) throw malformed('truncated name length', at);
      const len = buf[pos]!;
      const from = pos + 1;
      pos = from + len;
      if (pos > end) throw malformed(`name of ${len} bytes runs past the end`, at);
      key = readString(buf, from, pos);
    }
    let value = '';
    if (type === KEY_VALUE || type === LIST_ITEM) {
      if (pos + 2 > end) throw malformed('truncated value length', at);
      const len = (buf[pos]! << 8) | buf[pos + 1]!;
      const from = pos + 2;
      pos = from + len;
      if (pos > end) throw malformed(`value of ${len} bytes runs past the end`, at);
      // "data" carries binary (list-cert's DER): kept byte for byte as a latin1 string, so
      // Buffer.from(value, 'latin1') gives the bytes back. UTF-8 decoding would mangle them.
      value = type === KEY_VALUE && key === BINARY_KEY ? buf.toString('latin1', from, pos) : readString(buf, from, pos);
    }
    switch (type) {
      case KEY_VALUE:
        current[key] = value;
        break;
      case SECTION_START: {
        const section = newMessage();
        current[key] = section;
        parents.push(current);
        current = section;
        break;
      }
      case SECTION_END: {
        if (list !== undefined) throw malformed('section end inside a list', at);
        const parent = parents.pop();
        if (parent === undefined) throw malformed('section end at top level', at);
        current = parent;
        break;
      }
      case LIST_START:
        list = [];
        current[key] = list;
        break;
      case LIST_ITEM:
        if (list === undefined) throw malformed('list item outside a list', at);
        list.push(value);
        break;
      case LIST_END:
        if (list === undefined) throw malformed('list end outside a list', at);
        list = undefined;
        break;
      default:
        throw malformed(`unknown element type ${type}`, at);
    }
  }
  if (list !== undefined) throw malformed('unterminated list', end);
  if (parents.length > 0) throw malformed(`${parents.length} unterminated section(s)`, end);
  return root;
}

function nameBytes(key: string): number {
  const len = Buffer.byteLength(key, 'utf8');
  if (len > MAX_NAME_BYTES) throw new ProtocolError(`VICI key "${key.slice(0, 40)}…" is ${len} bytes, over ${MAX_NAME_BYTES}`);
  return len;
}

function valueBytes(key: string, value: string): number {
  const len = Buffer.byteLength(value, 'utf8');
  if (len > MAX_VALUE_BYTES) throw new ProtocolError(`VICI value of "${key}" is ${len} bytes, over ${MAX_VALUE_BYTES}`);
  return len;
}

function measure(msg: ViciMessage): number {
  let size = 0;
  for (const key of Object.keys(msg)) {
    const value = msg[key]!;
    const head = 2 + nameBytes(key);
    if (typeof value === 'string') {
      size += head + 2 + valueBytes(key, value);
    } else if (Array.isArray(value)) {
      size += head + 1;
      for (const item of value) size += 3 + valueBytes(key, item);
    } else {
      size += head + measure(value) + 1;
    }
  }
  return size;
}

function write(msg: ViciMessage, buf: Buffer, pos: number): number {
  const putName = (type: number, key: string): void => {
    buf[pos++] = type;
    const len = buf.write(key, pos + 1, 'utf8');
    buf[pos] = len;
    pos += 1 + len;
  };
  const putValue = (type: number, value: string): void => {
    buf[pos++] = type;
    const len = buf.write(value, pos + 2, 'utf8');
    buf.writeUInt16BE(len, pos);
    pos += 2 + len;
  };
  for (const key of Object.keys(msg)) {
    const value = msg[key]!;
    if (typeof value === 'string') {
      putName(KEY_VALUE, key);
      const len = buf.write(value, pos + 2, 'utf8');
      buf.writeUInt16BE(len, pos);
      pos += 2 + len;
    } else if (Array.isArray(value)) {
      putName(LIST_START, key);
      for (const item of value) putValue(LIST_ITEM, item);
      buf[pos++] = LIST_END;
    } else {
      putName(SECTION_START, key);
      pos = write(value, buf, pos);
      buf[pos++] = SECTION_END;
    }
  }
  return pos;
}

/** Encodes a message body; throws ProtocolError for keys or values too long for the wire. */
export function encode(msg: ViciMessage): Buffer {
  const buf = Buffer.allocUnsafe(measure(msg));
  write(msg, buf, 0);
  return buf;
}
