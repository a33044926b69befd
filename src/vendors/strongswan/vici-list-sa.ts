import type { StrongswanChildSa, StrongswanIkeSa } from '../../model/snapshot.js';
import { END, readListOfOne, readString, ViciElements } from '../../transport/vici/elements.js';
import { decode } from '../../transport/vici/message.js';
import { KEY_VALUE, LIST_END, LIST_ITEM, LIST_START, SECTION_END, SECTION_START } from '../../transport/vici/wire.js';
import { parseListSaEvent } from './vici-records.js';

/*
 * list-sa events straight from their bytes into the records parseListSaEvent makes, for
 * the one stream that grows with a gateway (a 10,000-SA concentrator sends 5-10 MB of it).
 * No message tree is built: a key is compared byte for byte and, unless it is one the
 * records keep, skipped with its value, so no string is made for it either.
 *
 * The records must be exactly the generic path's (decode, then parseListSaEvent), and
 * where the two could differ the generic path is taken: for a malformed message (it
 * throws decode's error), and for keys whose order or repetition a JS object decides
 * (a conn or child key made of digits, which objects enumerate first; the same conn or
 * child twice in one event, where the later replaces the earlier in its place). charon
 * sends one IKE_SA per event under its conn name, and CHILD_SAs as "<name>-<uniqueid>",
 * so it never takes that path.
 */

const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

const UNIQUEID = bytes('uniqueid');
const VERSION = bytes('version');
const STATE = bytes('state');
const LOCAL_HOST = bytes('local-host');
const REMOTE_HOST = bytes('remote-host');
const REMOTE_PORT = bytes('remote-port');
const LOCAL_ID = bytes('local-id');
const REMOTE_ID = bytes('remote-id');
const REMOTE_EAP_ID = bytes('remote-eap-id');
const REMOTE_XAUTH_ID = bytes('remote-xauth-id');
const ESTABLISHED = bytes('established');
const REKEY_TIME = bytes('rekey-time');
const REAUTH_TIME = bytes('reauth-time');
const REMOTE_VIPS = bytes('remote-vips');
const CHILD_SAS = bytes('child-sas');

const NAME = bytes('name');
const MODE = bytes('mode');
const PROTOCOL = bytes('protocol');
const ENCAP = bytes('encap');
const BYTES_IN = bytes('bytes-in');
const BYTES_OUT = bytes('bytes-out');
const PACKETS_IN = bytes('packets-in');
const PACKETS_OUT = bytes('packets-out');
const INSTALL_TIME = bytes('install-time');
const LIFE_TIME = bytes('life-time');
const LOCAL_TS = bytes('local-ts');
const REMOTE_TS = bytes('remote-ts');

/** Thrown inside, caught below: the event takes the generic path. */
const GENERIC = new Error('list-sa event needs the generic path');

/**
 * One `list-sa` event's message body → its IKE_SAs, pushed onto `into` (the probe's list, so
 * no array is made per event); throws decode's ProtocolError for a malformed one.
 */
export function decodeListSaEvent(body: Buffer, into: StrongswanIkeSa[] = []): StrongswanIkeSa[] {
  if (readListSaEvent(body, into) === undefined) for (const sa of parseListSaEvent(decode(body))) into.push(sa);
  return into;
}

/**
 * The records without the message tree, pushed onto `into`; or undefined where the event
 * needs the generic path, and then `into` is as it was.
 */
export function readListSaEvent(body: Buffer, into: StrongswanIkeSa[] = []): StrongswanIkeSa[] | undefined {
  const r = new ViciElements(body);
  const from = into.length;
  try {
    const seen = EVENT_KEYS.reset();
    for (;;) {
      const type = next(r);
      if (type === END) return into;
      seen.add(r);
      if (type === SECTION_START) into.push(ikeSa(r));
      else if (type === LIST_START) skip(r, type);
    }
  } catch (err) {
    into.length = from;
    if (err === GENERIC) return undefined;
    throw err;
  }
}

function ikeSa(r: ViciElements): StrongswanIkeSa {
  const conn = r.name();
  let uniqueId: string | undefined;
  let version: number | undefined;
  let state: string | undefined;
  let localHost: string | undefined;
  let remoteHost: string | undefined;
  let remotePort: number | undefined;
  let localId: string | undefined;
  let remoteId: string | undefined;
  let eapId: string | undefined;
  let xauthId: string | undefined;
  let establishedSeconds: number | undefined;
  let rekeySeconds: number | undefined;
  let reauthSeconds: number | undefined;
  let virtualIps: string[] = [];
  let children: StrongswanChildSa[] = [];
  for (;;) {
    const type = next(r);
    if (type === SECTION_END) break;
    // As with any key of a JS object, a repeated key's last value counts.
    const kv = type === KEY_VALUE;
    if (r.nameIs(UNIQUEID)) uniqueId = kv ? r.value() : undefined;
    else if (r.nameIs(VERSION)) version = kv ? num(r) : undefined;
    else if (r.nameIs(STATE)) state = kv ? r.value() : undefined;
    else if (r.nameIs(LOCAL_HOST)) localHost = kv ? r.value() : undefined;
    else if (r.nameIs(REMOTE_HOST)) remoteHost = kv ? r.value() : undefined;
    else if (r.nameIs(REMOTE_PORT)) remotePort = kv ? num(r) : undefined;
    else if (r.nameIs(LOCAL_ID)) localId = kv ? r.value() : undefined;
    else if (r.nameIs(REMOTE_ID)) remoteId = kv ? r.value() : undefined;
    else if (r.nameIs(REMOTE_EAP_ID)) eapId = kv ? r.value() : undefined;
    else if (r.nameIs(REMOTE_XAUTH_ID)) xauthId = kv ? r.value() : undefined;
    else if (r.nameIs(ESTABLISHED)) establishedSeconds = kv ? num(r) : undefined;
    else if (r.nameIs(REKEY_TIME)) rekeySeconds = kv ? num(r) : undefined;
    else if (r.nameIs(REAUTH_TIME)) reauthSeconds = kv ? num(r) : undefined;
    else if (r.nameIs(REMOTE_VIPS)) {
      virtualIps = list(r, type);
      continue;
    } else if (r.nameIs(CHILD_SAS)) {
      children = type === SECTION_START ? childSas(r) : [];
      if (type === LIST_START) skip(r, type);
      continue;
    }
    if (type === SECTION_START || type === LIST_START) skip(r, type);
  }
  return {
    conn,
    uniqueId: uniqueId ?? '',
    version: version ?? 2,
    state: state ?? 'UNKNOWN',
    localHost,
    remoteHost,
    remotePort,
    localId,
    remoteId,
    remoteUserId: eapId ?? xauthId,
    establishedSeconds,
    rekeySeconds,
    reauthSeconds,
    virtualIps,
    children,
  };
}

function childSas(r: ViciElements): StrongswanChildSa[] {
  // Most SAs have one CHILD_SA: an array of exactly one, where pushing onto [] reserves 17 slots.
  let first: StrongswanChildSa | undefined;
  let out: StrongswanChildSa[] | undefined;
  const seen = CHILD_KEYS.reset();
  for (;;) {
    const type = next(r);
    if (type === SECTION_END) return out ?? (first === undefined ? [] : [first]);
    seen.add(r);
    if (type === SECTION_START) {
      const child = childSa(r);
      if (first === undefined) first = child;
      else if (out === undefined) out = [first, child];
      else out.push(child);
    } else if (type === LIST_START) skip(r, type);
  }
}

function childSa(r: ViciElements): StrongswanChildSa {
  const keyStart = r.nameStart;
  const keyEnd = r.nameEnd;
  let name: string | undefined;
  let uniqueId: string | undefined;
  let state: string | undefined;
  let mode: string | undefined;
  let protocol: string | undefined;
  let encap: string | undefined;
  let bytesIn: number | undefined;
  let bytesOut: number | undefined;
  let packetsIn: number | undefined;
  let packetsOut: number | undefined;
  let installSeconds: number | undefined;
  let rekeySeconds: number | undefined;
  let lifeSeconds: number | undefined;
  let localTs: string[] = [];
  let remoteTs: string[] = [];
  for (;;) {
    const type = next(r);
    if (type === SECTION_END) break;
    const kv = type === KEY_VALUE;
    if (r.nameIs(NAME)) name = kv ? r.value() : undefined;
    else if (r.nameIs(UNIQUEID)) uniqueId = kv ? r.value() : undefined;
    else if (r.nameIs(STATE)) state = kv ? r.value() : undefined;
    else if (r.nameIs(MODE)) mode = kv ? r.value() : undefined;
    else if (r.nameIs(PROTOCOL)) protocol = kv ? r.value() : undefined;
    else if (r.nameIs(ENCAP)) encap = kv ? r.value() : undefined;
    else if (r.nameIs(BYTES_IN)) bytesIn = kv ? num(r) : undefined;
    else if (r.nameIs(BYTES_OUT)) bytesOut = kv ? num(r) : undefined;
    else if (r.nameIs(PACKETS_IN)) packetsIn = kv ? num(r) : undefined;
    else if (r.nameIs(PACKETS_OUT)) packetsOut = kv ? num(r) : undefined;
    else if (r.nameIs(INSTALL_TIME)) installSeconds = kv ? num(r) : undefined;
    else if (r.nameIs(REKEY_TIME)) rekeySeconds = kv ? num(r) : undefined;
    else if (r.nameIs(LIFE_TIME)) lifeSeconds = kv ? num(r) : undefined;
    else if (r.nameIs(LOCAL_TS)) {
      localTs = list(r, type);
      continue;
    } else if (r.nameIs(REMOTE_TS)) {
      remoteTs = list(r, type);
      continue;
    }
    if (type === SECTION_START || type === LIST_START) skip(r, type);
  }
  return {
    name: name ?? readString(r.buf, keyStart, keyEnd).replace(/-\d+$/, ''),
    uniqueId: uniqueId ?? '',
    state: state ?? 'UNKNOWN',
    mode,
    protocol,
    encap: encap === 'yes',
    traffic: {
      bytesIn: bytesIn ?? 0,
      bytesOut: bytesOut ?? 0,
      packetsIn: packetsIn ?? 0,
      packetsOut: packetsOut ?? 0,
    },
    installSeconds,
    rekeySeconds,
    lifeSeconds,
    localTs,
    remoteTs,
  };
}

/** The next element; a malformed message goes to the generic path, which says what is wrong. */
function next(r: ViciElements): number {
  const type = r.next();
  if (type < 0) throw GENERIC;
  return type;
}

function skip(r: ViciElements, type: number): void {
  if (!r.skip(type)) throw GENERIC;
}

/** As vici-value's list(): a value is a list of one, a list its items, a section none (skipped). */
function list(r: ViciElements, type: number): string[] {
  if (type === KEY_VALUE) return r.valueAsList();
  if (type === SECTION_START) {
    skip(r, type);
    return [];
  }
  // Nearly every list holds one item (a traffic selector, a virtual IP): a list of one shared
  // by every SA with that item (readListOfOne), where pushing onto [] reserved room for 17.
  let t = next(r);
  if (t === LIST_END) return [];
  if (t !== LIST_ITEM) throw GENERIC;
  const firstStart = r.valueStart;
  const firstEnd = r.valueEnd;
  t = next(r);
  if (t === LIST_END) return readListOfOne(r.buf, firstStart, firstEnd);
  const items = [readString(r.buf, firstStart, firstEnd)];
  for (; t !== LIST_END; t = next(r)) {
    if (t !== LIST_ITEM) throw GENERIC;
    items.push(r.value());
  }
  return items;
}

/** As vici-value's num(): 1 to 20 ASCII digits, else undefined. */
function num(r: ViciElements): number | undefined {
  const buf = r.buf;
  const start = r.valueStart;
  const end = r.valueEnd;
  const len = end - start;
  if (len === 0 || len > 20) return undefined;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  // Past 15 digits, summing in doubles may round differently from Number(): ask it.
  return len <= 15 ? n : Number(buf.toString('latin1', start, end));
}

/**
 * The keys of one section, to send the event to the generic path when a JS object would
 * reorder them (digits only) or merge them (a repeat). Sections here hold one to a few keys;
 * one with more than MAX_KEYS goes to the generic path too, so the comparisons stay few.
 */
const MAX_KEYS = 16;

class Keys {
  // Reused for every section at its level (the event's conns, an SA's children): typed
  // arrays made once, where two arrays per section were most of the decoder's garbage.
  private readonly starts = new Int32Array(MAX_KEYS);
  private readonly ends = new Int32Array(MAX_KEYS);
  private count = 0;

  reset(): this {
    this.count = 0;
    return this;
  }

  /** The key `r` is at; the event goes to the generic path if a JS object would reorder or merge it. */
  add(r: ViciElements): void {
    const { buf, nameStart, nameEnd } = r;
    let digits = true;
    for (let i = nameStart; i < nameEnd && digits; i++) digits = buf[i]! >= 0x30 && buf[i]! <= 0x39;
    if (digits) throw GENERIC;
    const len = nameEnd - nameStart;
    if (this.count >= MAX_KEYS) throw GENERIC;
    for (let k = 0; k < this.count; k++) {
      const s = this.starts[k]!;
      if (this.ends[k]! - s === len && buf.compare(buf, nameStart, nameEnd, s, s + len) === 0) throw GENERIC;
    }
    this.starts[this.count] = nameStart;
    this.ends[this.count] = nameEnd;
    this.count++;
  }
}

/** The two levels of keys checked at once: an event's conns, and the children of the SA being read. */
const EVENT_KEYS = new Keys();
const CHILD_KEYS = new Keys();
