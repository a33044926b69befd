import { ParseError } from '../../util/errors.js';
import { optional, parseCount, parseRealAddress, parseTime } from './fields.js';
import type { OpenvpnClient, OpenvpnRoute } from './status-types.js';

/**
 * Column positions looked up by name, because the layout changed in every
 * release (2.3 lacks Virtual IPv6, some 2.4 builds lack Client/Peer ID, 2.5
 * added Data Channel Cipher).
 */
export class Columns {
  private readonly index = new Map<string, number>();

  constructor(
    readonly names: readonly string[],
    private readonly table: string,
  ) {
    names.forEach((n, i) => {
      const key = n.trim().toLowerCase();
      if (!this.index.has(key)) this.index.set(key, i);
    });
  }

  row(fields: readonly string[], lineNo: number): Row {
    if (fields.length !== this.names.length) {
      throw new ParseError(`line ${lineNo}: ${this.table} row has ${fields.length} fields but the header has ${this.names.length}`);
    }
    return new Row(this.index, fields, `line ${lineNo}`);
  }

  require(...names: string[]): void {
    for (const n of names) {
      if (!this.index.has(n.toLowerCase())) throw new ParseError(`${this.table} header lacks "${n}"`);
    }
  }
}

class Row {
  constructor(
    private readonly index: ReadonlyMap<string, number>,
    private readonly fields: readonly string[],
    readonly where: string,
  ) {}

  get(name: string): string | undefined {
    const i = this.index.get(name.toLowerCase());
    return i === undefined ? undefined : this.fields[i];
  }

  /** A time column, preferring its `(time_t)` twin when the layout has one. */
  time(name: string): number | undefined {
    const epoch = optional(this.get(`${name} (time_t)`));
    if (epoch !== undefined) return parseTime(epoch, `${this.where} ${name} (time_t)`);
    const text = optional(this.get(name));
    return text === undefined ? undefined : parseTime(text, `${this.where} ${name}`);
  }

  id(name: string): number | undefined {
    const s = optional(this.get(name));
    return s === undefined ? undefined : parseCount(s, `${this.where} ${name}`);
  }
}

export const CLIENT_REQUIRED = ['Common Name', 'Bytes Received', 'Bytes Sent'];
export const ROUTE_REQUIRED = ['Virtual Address', 'Common Name'];

export function toClient(row: Row): OpenvpnClient {
  const client: OpenvpnClient = {
    commonName: row.get('Common Name') ?? '',
    ...parseRealAddress(row.get('Real Address'), `${row.where} Real Address`),
    bytesReceived: parseCount(row.get('Bytes Received') ?? '', `${row.where} Bytes Received`),
    bytesSent: parseCount(row.get('Bytes Sent') ?? '', `${row.where} Bytes Sent`),
  };
  const set = <K extends keyof OpenvpnClient>(key: K, value: OpenvpnClient[K] | undefined): void => {
    if (value !== undefined) client[key] = value;
  };
  set('virtualAddress', optional(row.get('Virtual Address')));
  set('virtualIpv6Address', optional(row.get('Virtual IPv6 Address')));
  set('connectedSince', row.time('Connected Since'));
  set('username', optional(row.get('Username')));
  set('clientId', row.id('Client ID'));
  set('peerId', row.id('Peer ID'));
  set('cipher', optional(row.get('Data Channel Cipher')));
  return client;
}

export function toRoute(row: Row): OpenvpnRoute {
  const virtualAddress = optional(row.get('Virtual Address'));
  if (virtualAddress === undefined) throw new ParseError(`${row.where}: routing entry without a virtual address`);
  const route: OpenvpnRoute = {
    virtualAddress,
    commonName: row.get('Common Name') ?? '',
    ...parseRealAddress(row.get('Real Address'), `${row.where} Real Address`),
  };
  const lastRef = row.time('Last Ref');
  if (lastRef !== undefined) route.lastRef = lastRef;
  return route;
}
