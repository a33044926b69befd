import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { XMLParser } from 'fast-xml-parser';
import { xmlGpCurrentUsers, xmlGpStatistics, xmlHaState, xmlIkeSa, xmlIpsecSa, xmlSystemInfo, xmlVpnFlow } from './api-render.js';
import type { PanosScenario } from './scenario.js';
import { listenOnLoopback } from './listen.js';

/*
 * The PAN-OS XML API (`/api/`) over HTTPS only, serving a scenario of the SSH emulator.
 * Honest to the documented behaviour the prober relies on: a missing or wrong key is HTTP
 * 403 with `<response status="error" code="403"><result><msg>Invalid Credential</msg>`;
 * keygen with a wrong password is the same 403; an op command the device does not know is
 * an error response (code 17), never an empty success; the key may come as the X-PAN-KEY
 * header or a `key` parameter (the device takes both; the tests assert the prober never
 * puts it in a URL).
 */

export interface PanosApiEmulator {
  host: string;
  port: number;
  /** A key the device accepts from the start (as configured on a real unit). */
  apiKey: string;
  username: string;
  password: string;
  /** SHA-256 of the served certificate, as openssl prints it (AB:CD:…). */
  certFingerprint: string;
  /** Requests so far: keygens, op commands (by CLI words), refused for a bad key, every request line, the keys handed out. */
  stats(): { keygens: number; ops: number; forbidden: number; urls: string[]; commands: string[]; generatedKeys: string[] };
  /** TLS connections open now. */
  connections(): number;
  /** TLS connections accepted so far (a warm probe opens none). */
  handshakes(): number;
  /** Every generated key stops working (a key lifetime ran out). */
  expireGeneratedKeys(): void;
  close(): Promise<void>;
}

const INVALID_CREDENTIAL = '<response status="error" code="403"><result><msg>Invalid Credential</msg></result></response>';
const MAX_BODY = 64 * 1024;

const cmdParser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true });

/** `<show><vpn><flow/></vpn></show>` as words (`show vpn flow`), with a `<gateway>` filter if one was given. */
function commandOf(cmd: string): { words: string; gateway?: string } | undefined {
  let node: unknown;
  try {
    node = cmdParser.parse(cmd);
  } catch {
    return undefined;
  }
  const words: string[] = [];
  let gateway: string | undefined;
  while (node !== null && typeof node === 'object' && !Array.isArray(node)) {
    const entries = Object.entries(node as Record<string, unknown>);
    const gw = entries.find(([k]) => k === 'gateway');
    if (gw && typeof gw[1] === 'string') {
      gateway = gw[1];
      break;
    }
    if (entries.length !== 1) return undefined;
    const [name, child] = entries[0] as [string, unknown];
    words.push(name);
    node = child;
  }
  return { words: words.join(' '), ...(gateway !== undefined ? { gateway } : {}) };
}

function answer(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'content-type': 'application/xml; charset=UTF-8' });
  res.end(xml);
}

export async function startPanosApiEmulator(scenario: PanosScenario, tls: { certFile: string; keyFile: string }): Promise<PanosApiEmulator> {
  const apiKey = `LUFRPT${randomBytes(24).toString('base64')}`;
  const generated = new Set<string>();
  /** Kept for stats: a leak test looks for every key ever handed out. */
  const expired = new Set<string>();
  const stats = { keygens: 0, ops: 0, forbidden: 0, urls: [] as string[], commands: [] as string[] };
  const sockets = new Set<Socket>();
  let handshakes = 0;
  const cert = readFileSync(tls.certFile);

  const ops: Record<string, (gateway?: string) => string> = {
    'show system info': () => xmlSystemInfo(scenario, new Date()),
    'show vpn flow': () => xmlVpnFlow(scenario),
    'show high-availability state': () => xmlHaState(scenario),
    'show vpn ike-sa': () => xmlIkeSa(scenario),
    'show vpn ipsec-sa': () => xmlIpsecSa(scenario),
    'show global-protect-gateway statistics': () => xmlGpStatistics(scenario),
    'show global-protect-gateway current-user': (gw) => xmlGpCurrentUsers(scenario, new Date(), gw),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://device');
    stats.urls.push(req.url ?? '');
    if (url.pathname !== '/api/' && url.pathname !== '/api') {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html><body>Not Found</body></html>');
      return;
    }
    const params = new URLSearchParams(url.search);
    if (req.method === 'POST') {
      let body = '';
      for await (const chunk of req) {
        body += String(chunk);
        if (body.length > MAX_BODY) return answer(res, 400, '<response status="error" code="400"><msg>request too large</msg></response>');
      }
      for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
    }
    const type = params.get('type');
    if (type === 'keygen') {
      stats.keygens++;
      if (params.get('user') !== scenario.username || params.get('password') !== scenario.password) return answer(res, 403, INVALID_CREDENTIAL);
      const key = `LUFRPT${randomBytes(24).toString('base64')}`;
      generated.add(key);
      return answer(res, 200, `<response status="success"><result><key>${key}</key></result></response>`);
    }
    const key = req.headers['x-pan-key'] ?? params.get('key') ?? '';
    if (key !== apiKey && !generated.has(String(key))) {
      stats.forbidden++;
      return answer(res, 403, INVALID_CREDENTIAL);
    }
    if (type !== 'op') return answer(res, 400, `<response status="error" code="400"><msg>Unknown or missing type: ${type ?? ''}</msg></response>`);
    stats.ops++;
    const cmd = params.get('cmd') ?? '';
    const command = commandOf(cmd);
    stats.commands.push(command?.words ?? cmd);
    const delay = scenario.faults?.commandDelayMs;
    if (delay) await new Promise((r) => setTimeout(r, delay));
    if (res.destroyed) return;
    const render = command ? ops[command.words] : undefined;
    if (!command || !render) {
      const where = command?.words.split(' ').join(' -> ') ?? 'cmd';
      return answer(res, 200, `<response status="error" code="17"><msg><line><![CDATA[ ${where} is unexpected]]></line></msg></response>`);
    }
    const refused = scenario.faults?.refuse?.[command.words];
    if (refused !== undefined) return answer(res, 200, `<response status="error"><msg><line>${refused}</line></msg></response>`);
    answer(res, 200, `<response status="success"><result>${render(command.gateway)}</result></response>`);
  }

  const server = https.createServer({ cert, key: readFileSync(tls.keyFile), keepAliveTimeout: 120_000 }, (req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('secureConnection', () => handshakes++);
  const port = await listenOnLoopback(server);
  return {
    host: '127.0.0.1',
    port,
    apiKey,
    username: scenario.username,
    password: scenario.password,
    certFingerprint: new X509Certificate(cert).fingerprint256,
    stats: () => ({ ...stats, urls: [...stats.urls], commands: [...stats.commands], generatedKeys: [...generated, ...expired] }),
    connections: () => sockets.size,
    handshakes: () => handshakes,
    expireGeneratedKeys: () => {
      for (const k of generated) expired.add(k);
      generated.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
