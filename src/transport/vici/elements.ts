import { KEY_VALUE, LIST_END, LIST_ITEM, LIST_START, SECTION_END, SECTION_START } from './wire.js';

// Most of charon's strings repeat (keys, states, algorithm names, ports), so
// short ASCII strings are interned: a hit costs a byte comparison instead of a
// native call and an allocation, which halves decode time for list-sas.
const INTERN_MAX = 40;
const INTERN_SLOTS = 4096;
const interned: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS).fill(undefined);
/** The string of each slot as a frozen list of one, made on first use (see readListOfOne). */
const internedLists: (readonly string[] | undefined)[] = new Array<readonly string[] | undefined>(INTERN_SLOTS).fill(undefined);
/** The slot readString last found or filled, or -1 when it made a string it does not keep. */
let lastSlot = -1;

/**
 * A VICI string: UTF-8, with invalid sequences as U+FFFD rather than a failure, because a
 * peer's identities are arbitrary bytes and one odd certificate subject should not hide
 * every other SA. Every reader of VICI messages goes through here, so they agree on it.
 */
export function readString(buf: Buffer, start: number, end: number): string {
  lastSlot = -1;
  const len = end - start;
  if (len > INTERN_MAX) return buf.toString('utf8', start, end);
  let hash = len;
  let bits = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    bits |= c;
    hash = Math.imul(hash, 0x01000193) ^ c;
  }
  if (bits & 0x80) return buf.toString('utf8', start, end);
  const slot = (hash ^ (hash >>> 12)) & (INTERN_SLOTS - 1);
  lastSlot = slot;
  const known = interned[slot];
  if (known !== undefined && known.length === len) {
    let i = 0;
    while (i < len && known.charCodeAt(i) === buf[start + i]) i++;
    if (i === len) return known;
  }
  const fresh = buf.toString('latin1', start, end);
  interned[slot] = fresh;
  internedLists[slot] = undefined;
  return fresh;
}

/**
 * A VICI string as a list of one item, shared (and frozen) when the string is interned: a
 * traffic selector or virtual IP repeats across thousands of SAs, and each SA kept an array
 * of its own for it. The lists outlive the probe only as long as their strings keep a slot.
 */
export function readListOfOne(buf: Buffer, start: number, end: number): string[] {
  const value = readString(buf, start, end);
  if (lastSlot < 0) return [value];
  let list = internedLists[lastSlot];
  if (list === undefined) {
    list = Object.freeze([value]);
    internedLists[lastSlot] = list;
  }
  // Frozen: a caller that tried to change a shared list would throw rather than change every SA's.
  return list as string[];
}

/** What next() returns after the last element of a well-formed message. */
export const END = 0;
/** What next() returns, from then on, for a message that decode() would refuse. */
export const MALFORMED = -1;

/**
 * Walks a message body element by element without building it, for a reader that
 * wants a few fields of a large stream (list-sas) and can skip the rest by comparing
 * key bytes. It accepts exactly what decode() accepts: every element that decode()
 * refuses makes next() return MALFORMED (decode() says why), and so does a message
 * that ends inside a section or a list.
 *
 * After next(), `nameStart..nameEnd` is the element's name (sections, key-values,
 * lists) and `valueStart..valueEnd` its value (key-values, list items).
 */
export class ViciElements {
  pos = 0;
  nameStart = 0;
  nameEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  /** Sections open at the current position. */
  depth = 0;
  private inList = false;

  constructor(readonly buf: Buffer) {}

  next(): number {
    const buf = this.buf;
    const end = buf.length;
    let pos = this.pos;
    if (pos < 0) return MALFORMED;
    if (pos >= end) return this.inList || this.depth > 0 ? this.bad() : END;
    const type = buf[pos++]!;
    if (type === SECTION_START || type === KEY_VALUE || type === LIST_START) {
      if (this.inList || pos >= end) return this.bad();
      const from = pos + 1;
      pos = from + buf[pos]!;
      if (pos > end) return this.bad();
      this.nameStart = from;
      this.nameEnd = pos;
    }
    if (type === KEY_VALUE || type === LIST_ITEM) {
      if (pos + 2 > end) return this.bad();
      const from = pos + 2;
      pos = from + ((buf[pos]! << 8) | buf[pos + 1]!);
      if (pos > end) return this.bad();
      this.valueStart = from;
      this.valueEnd = pos;
    }
    switch (type) {
      case KEY_VALUE:
        break;
      case SECTION_START:
        this.depth++;
        break;
      case SECTION_END:
        if (this.inList || this.depth === 0) return this.bad();
        this.depth--;
        break;
      case LIST_START:
        this.inList = true;
        break;
      case LIST_ITEM:
        if (!this.inList) return this.bad();
        break;
      case LIST_END:
        if (!this.inList) return this.bad();
        this.inList = false;
        break;
      default:
        return this.bad();
    }
    this.pos = pos;
    return type;
  }

  /** After SECTION_START or LIST_START: moves past its end. False if the message is malformed. */
  skip(type: number): boolean {
    if (type === LIST_START) {
      for (;;) {
        const t = this.next();
        if (t === LIST_END) return true;
        if (t !== LIST_ITEM) return false;
      }
    }
    const depth = this.depth - 1;
    for (;;) {
      const t = this.next();
      if (t === SECTION_END && this.depth === depth) return true;
      if (t === END || t === MALFORMED) return false;
    }
  }

  /** The current element's name, compared byte for byte without making a string. */
  nameIs(name: Uint8Array): boolean {
    const start = this.nameStart;
    const len = name.length;
    if (this.nameEnd - start !== len) return false;
    const buf = this.buf;
    for (let i = 0; i < len; i++) if (buf[start + i] !== name[i]) return false;
    return true;
  }

  name(): string {
    return readString(this.buf, this.nameStart, this.nameEnd);
  }

  value(): string {
    return readString(this.buf, this.valueStart, this.valueEnd);
  }

  /** The current value as a list of one (see readListOfOne). */
  valueAsList(): string[] {
    return readListOfOne(this.buf, this.valueStart, this.valueEnd);
  }

  private bad(): number {
    this.pos = -1;
    return MALFORMED;
  }
}
