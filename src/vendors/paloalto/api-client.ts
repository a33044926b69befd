import type { ProbeLog } from '../../log/probe-log.js';
import type { HttpsCredentials } from '../../config/https-block.js';
import type { HttpsClient, HttpsResponse } from '../../transport/https/types.js';
import { ProbeError, ProtocolError } from '../../util/errors.js';
import { field, readApiResponse, type ApiResponse, type XmlObject } from './xml.js';

/** The device answered `status="error"`: its code and words, for people and for optional commands. */
export class PanosApiError extends ProbeError {
  override readonly name = 'PanosApiError';
  constructor(
    readonly command: string,
    readonly code: string | undefined,
    readonly deviceWords: string,
    kind: 'auth_failed' | 'command_failed',
  ) {
    super(`${command}: the device answered with an error${code ? ` (code ${code})` : ''}: ${deviceWords}`, { kind });
  }
}

/** Where the generated key is kept: the HTTPS client's memo, one per target and credentials. */
const KEY_MEMO = 'paloalto-api-key';

export interface ApiCallOptions {
  signal: AbortSignal;
  log: ProbeLog;
  maxResponseBytes: number;
}

/** XML text escaped for an element's content (a gateway name inside a `cmd`). */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * One probe's conversation with the PAN-OS XML API. The key travels in the `X-PAN-KEY`
 * header only, never in a URL; a key generated from a password (`type=keygen`, a POST body)
 * is kept in the client's memo for the next probes of the same target and credentials,
 * and generated again once when the device answers 403 (a key revoked or expired).
 */
export class PanosApi {
  /** HTTP requests sent by this probe (keygen included), for the debug log and the benchmark. */
  requests = 0;
  private regenerated = false;

  constructor(
    private readonly client: HttpsClient,
    private readonly credentials: HttpsCredentials,
    private readonly o: ApiCallOptions,
  ) {}

  /** `type=op`: `cmd` is the command as XML; `command` its CLI words, for messages. Returns `<result>`. */
  async op(command: string, cmd: string): Promise<XmlObject> {
    const key = await this.key();
    const res = await this.send({ method: 'GET', path: `/api/?type=op&cmd=${encodeURIComponent(cmd)}`, headers: { 'X-PAN-KEY': key } });
    const answer = this.read(command, res);
    if (isForbidden(res, answer)) {
      if (this.credentials.apiKey === undefined && !this.regenerated) {
        this.regenerated = true;
        this.o.log.info('the device refused the generated API key (403); generating a new one once');
        this.client.memo.delete(KEY_MEMO);
        return this.op(command, cmd);
      }
      throw new PanosApiError(command, answer?.code ?? '403', answer?.message ?? `HTTP ${res.status}`, 'auth_failed');
    }
    if (!answer) throw new ProtocolError(`${command}: HTTP ${res.status} without a PAN-OS answer`);
    if (answer.status !== 'success') throw new PanosApiError(command, answer.code, answer.message ?? '(no message)', 'command_failed');
    return answer.result;
  }

  private async send(req: Parameters<HttpsClient['request']>[0]): Promise<HttpsResponse> {
    this.requests++;
    return await this.client.request(req, this.o);
  }

  /** The envelope, or undefined for a non-XML error page (an HTTP 403 or 5xx from a proxy). */
  private read(command: string, res: HttpsResponse): ApiResponse | undefined {
    try {
      return readApiResponse(res.body);
    } catch (err) {
      if (res.status !== 200) return undefined;
      throw new ProtocolError(`${command}: ${(err as Error).message}`, { cause: err });
    }
  }

  private async key(): Promise<string> {
    if (this.credentials.apiKey !== undefined) return this.credentials.apiKey;
    const memo = this.client.memo;
    let pending = memo.get(KEY_MEMO) as Promise<string> | undefined;
    if (!pending) {
      // Concurrent probes of this target and account share one keygen.
      pending = this.keygen();
      memo.set(KEY_MEMO, pending);
      pending.catch(() => {
        if (memo.get(KEY_MEMO) === pending) memo.delete(KEY_MEMO);
      });
    }
    return await pending;
  }

  private async keygen(): Promise<string> {
    const { username = '', password = '' } = this.credentials;
    const body = new URLSearchParams({ type: 'keygen', user: username, password }).toString();
    const res = await this.send({
      method: 'POST',
      path: '/api/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const answer = this.read('keygen', res);
    if (answer?.status !== 'success') {
      throw new PanosApiError('keygen', answer?.code ?? String(res.status), answer?.message ?? `HTTP ${res.status}`, 'auth_failed');
    }
    const key = field(answer.result, 'key');
    if (key === undefined) throw new ProtocolError('keygen: the answer holds no <key>');
    this.o.log.info('generated an API key for this target and account (kept for the next probes)', { user: username });
    return key;
  }
}

function isForbidden(res: HttpsResponse, answer: ApiResponse | undefined): boolean {
  return res.status === 403 || answer?.code === '403';
}
