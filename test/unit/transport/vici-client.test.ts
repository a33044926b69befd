import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CapturingProbeLog, silentProbeLog } from '../../../src/log/probe-log.js';
import { ViciClient, type ViciConnectOptions } from '../../../src/transport/vici/client.js';
import { toMessage, type ViciMessage } from '../../../src/transport/vici/message.js';
import { AbortedError, ProbeError, ProtocolError, SizeLimitError } from '../../../src/util/errors.js';
import { listSaEvents, statsResponse, versionResponse } from '../../support/charon-shapes.js';
import { startViciServer, type ScriptedViciServer, type ViciServerOptions } from '../../support/vici-server.js';
import { freePort } from '../../support/free-port.js';
import { waitFor } from '../../support/wait-for.js';

const servers: ScriptedViciServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(opts: ViciServerOptions): Promise<ScriptedViciServer> {
  const server = await startViciServer(opts);
  servers.push(server);
  return server;
}

function connect(server: ScriptedViciServer, extra: Partial<ViciConnectOptions> = {}): Promise<ViciClient> {
  return ViciClient.connect({
    host: '127.0.0.1',
    port: server.port,
    signal: AbortSignal.timeout(2000),
    log: silentProbeLog,
    ...extra,
  });
}

const deadline = (): AbortSignal => AbortSignal.timeout(2000);

function tcpSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

const sas = listSaEvents(25);
const normal: ViciServerOptions = {
  commands: {
    version: () => ({ response: versionResponse() }),
    stats: () => ({ response: statsResponse(sas.length) }),
    'list-sas': () => ({ response: toMessage({}), events: sas, eventName: 'list-sa' }),
    echo: (request) => ({ response: request }),
  },
};

/** A streamed command's events, collected, and its response. */
async function collect(client: ViciClient, command: string, event: string, signal: AbortSignal): Promise<{ events: ViciMessage[]; response: ViciMessage }> {
  const events: ViciMessage[] = [];
  const response = await client.streamedRequest(command, event, undefined, signal, (m) => events.push(m));
  return { events, response };
}

describe('ViciClient against a scripted server', () => {
  it('runs a request and returns the decoded response, logging at debug', async () => {
    const server = await serve(normal);
    const log = new CapturingProbeLog(undefined);
    const client = await connect(server, { log });
    const reply = await client.request('echo', toMessage({ leases: 'yes', ids: ['a', 'b'] }), deadline());
    assert.deepEqual(reply, toMessage({ leases: 'yes', ids: ['a', 'b'] }));
    assert.deepEqual(await client.request('version', undefined, deadline()), versionResponse());
    client.close();
    const lines = log.entries.map((e) => `${e.level} ${e.msg} ${e.fields.command ?? ''}`);
    assert.deepEqual(lines, ['debug tcp connected ', 'debug vici command echo', 'debug vici command version']);
    assert.ok(Number(log.entries[2]?.fields.bytes) > 50);
  });

  it('collects streamed events until the response, then unregisters', async () => {
    const server = await serve(normal);
    const client = await connect(server);
    const { events, response } = await collect(client, 'list-sas', 'list-sa', deadline());
    assert.equal(events.length, sas.length);
    assert.deepEqual(events, sas);
    assert.deepEqual(response, toMessage({}));
    // The session stays usable, and no event arrives for the next command.
    const again = await collect(client, 'list-sas', 'list-sa', deadline());
    assert.equal(again.events.length, sas.length);
    assert.deepEqual(await client.request('stats', undefined, deadline()), statsResponse(sas.length));
    client.close();
  });

  it('queues a concurrent call behind the running one; an aborted waiter leaves the rest alone', async () => {
    const server = await serve(normal);
    const client = await connect(server);
    const gone = new AbortController();
    gone.abort(new AbortedError('caller left'));
    const [a, b, c] = await Promise.allSettled([
      collect(client, 'list-sas', 'list-sa', deadline()),
      client.request('version', undefined, gone.signal),
      client.request('stats', undefined, deadline()),
    ]);
    assert.equal(a.status, 'fulfilled');
    assert.equal(b.status, 'rejected');
    assert.ok(b.reason instanceof AbortedError);
    assert.equal(c.status, 'fulfilled');
    assert.deepEqual(server.commands, ['list-sas', 'stats']);
    client.close();
  });

  it('turns CMD_UNKNOWN and EVENT_UNKNOWN into ProtocolError and keeps the session', async () => {
    const server = await serve(normal);
    const client = await connect(server);
    await assert.rejects(client.request('no-such', undefined, deadline()), (e) => e instanceof ProtocolError && e.message === 'unknown command no-such');
    await assert.rejects(collect(client, 'no-such', 'list-sa', deadline()), (e) => e instanceof ProtocolError && e.message === 'unknown command no-such');
    await assert.rejects(collect(client, 'list-sas', 'no-event', deadline()), (e) => e instanceof ProtocolError && e.message === 'unknown event no-event');
    assert.deepEqual(await client.request('version', undefined, deadline()), versionResponse());
    client.close();
  });

  it('pipelines commands in one write and reads the answers in order; an unknown one fills only its own slot', async () => {
    const server = await serve(normal);
    const client = await connect(server);
    const writes: number[] = [];
    const socket = (client as unknown as { socket: { write(b: Buffer): boolean } }).socket;
    const write = socket.write.bind(socket);
    socket.write = (b: Buffer) => {
      writes.push(b.length);
      return write(b);
    };
    const events: ViciMessage[] = [];
    const answers = await client.pipeline(
      [
        { command: 'version' },
        { command: 'no-such' },
        { command: 'list-sas', stream: { event: 'list-sa', onEvent: (m) => events.push(m) } },
        { command: 'list-sas', stream: { event: 'no-event', onEvent: () => assert.fail('no event was registered') } },
        { command: 'echo', message: toMessage({ a: '1' }) },
      ],
      deadline(),
    );
    assert.equal(writes.length, 1, 'one write for the whole pipeline');
    assert.deepEqual(server.commands, ['version', 'no-such', 'list-sas', 'list-sas', 'echo']);
    assert.deepEqual(answers[0], versionResponse());
    assert.ok(answers[1] instanceof ProtocolError && answers[1].message === 'unknown command no-such');
    assert.deepEqual(answers[2], toMessage({}));
    assert.deepEqual(events, sas);
    assert.ok(answers[3] instanceof ProtocolError && answers[3].message === 'unknown event no-event');
    assert.deepEqual(answers[4], toMessage({ a: '1' }));
    // Still in step: the next call gets its own answer.
    assert.deepEqual(await client.request('stats', undefined, deadline()), statsResponse(sas.length));
    client.close();
  });

  it('fails fast on connection refused', async () => {
    const port = await freePort();
    const started = performance.now();
    await assert.rejects(
      ViciClient.connect({ host: '127.0.0.1', port, signal: deadline(), log: silentProbeLog }),
      (e) => e instanceof ProbeError && e.message === `connection refused by 127.0.0.1:${port}`,
    );
    assert.ok(performance.now() - started < 500);
  });

  it('refuses a 4 GiB segment at its header without allocating it', async () => {
    const server = await serve({ ...normal, hostile: 'huge-segment' });
    const client = await connect(server);
    const before = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    await assert.rejects(client.request('version', undefined, deadline()), (e) => e instanceof SizeLimitError && /4294967295 bytes/.test(e.message));
    assert.ok(performance.now() - started < 500);
    assert.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024);
    await waitFor('the server to see the refused connection closed', () => server.openConnections() === 0);
  });

  it('bounds endless events by count and by bytes', async () => {
    const server = await serve({ ...normal, hostile: 'endless-events' });
    const byCount = await connect(server, { maxEvents: 500 });
    await assert.rejects(
      collect(byCount, 'list-sas', 'list-sa', deadline()),
      (e) => e instanceof SizeLimitError && /more than 500 "list-sa" events/.test(e.message),
    );
    const byBytes = await connect(server, { maxResponseBytes: 1024 * 1024 });
    await assert.rejects(
      collect(byBytes, 'list-sas', 'list-sa', deadline()),
      (e) => e instanceof SizeLimitError && /exceeds the limit of 1048576 bytes/.test(e.message),
    );
    await waitFor('the server to stop streaming to the refused clients', () => server.openConnections() === 0);
  });

  it('reports a close mid-segment with the bytes received', async () => {
    const server = await serve({ ...normal, hostile: 'stop-mid-message' });
    const client = await connect(server);
    await assert.rejects(
      client.request('stats', undefined, deadline()),
      (e) => e instanceof ProbeError && /^vici connection to 127\.0\.0\.1:\d+ closed mid-segment after \d+ bytes$/.test(e.message),
    );
    // A dead connection keeps failing with the same reason instead of hanging.
    await assert.rejects(client.request('version', undefined, deadline()), /closed mid-segment/);
  });

  it('rejects garbage bytes with ProtocolError', async () => {
    const server = await serve({ ...normal, hostile: 'garbage' });
    const client = await connect(server);
    await assert.rejects(client.request('version', undefined, deadline()), (e) => e instanceof ProtocolError && /unknown packet type 222/.test(e.message));
  });

  it('gives up on a silent server at the signal deadline', async () => {
    const server = await serve({ ...normal, hostile: 'silent' });
    const client = await connect(server);
    const started = performance.now();
    await assert.rejects(client.request('version', undefined, AbortSignal.timeout(150)), (e) => e instanceof AbortedError && e.message === 'probe timed out');
    const took = performance.now() - started;
    assert.ok(took >= 140 && took < 1500, `took ${took} ms`);
    await waitFor('the aborted socket to close', () => server.openConnections() === 0);
  });

  it('leaves no socket, timer or listener behind when aborted mid-stream', async () => {
    const server = await serve({ ...normal, hostile: 'endless-events' });
    const baseline = tcpSockets();
    const controller = new AbortController();
    const client = await connect(server, { signal: controller.signal });
    const pending = collect(client, 'list-sas', 'list-sa', controller.signal);
    setTimeout(() => controller.abort(new AbortedError('client went away')), 30);
    await assert.rejects(pending, (e) => e instanceof AbortedError && e.message === 'client went away');
    await waitFor('no socket left after the abort', () => server.openConnections() === 0 && tcpSockets() === baseline);
    await assert.rejects(client.request('version', undefined, deadline()), /client went away/);
    client.close();
  });

  it('aborts a connect in progress, or before it starts, without leaving a socket', async () => {
    const server = await serve(normal);
    const baseline = tcpSockets();
    const early = new AbortController();
    early.abort(new AbortedError('already gone'));
    await assert.rejects(connect(server, { signal: early.signal }), (e) => e instanceof AbortedError && e.message === 'already gone');
    const midway = new AbortController();
    const connecting = connect(server, { signal: midway.signal });
    midway.abort(new AbortedError('gone while connecting'));
    await assert.rejects(connecting, (e) => e instanceof AbortedError && e.message === 'gone while connecting');
    await waitFor('no socket left after the aborted connect', () => server.openConnections() === 0 && tcpSockets() === baseline);
  });
});
