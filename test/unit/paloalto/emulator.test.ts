import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { after, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import { CapturingProbeLog, silentProbeLog } from '../../../src/log/probe-log.js';
import { parseSystemInfo } from '../../../src/vendors/paloalto/system-info.js';
import { parseVpnFlow } from '../../../src/vendors/paloalto/vpn-flow.js';
import { CliRefusal, PanosCliSession } from '../../../src/vendors/paloalto/cli-session.js';
import type { InteractiveShell } from '../../../src/transport/ssh/types.js';
import { abortReason } from '../../../src/util/abort.js';
import { AbortedError, ProbeError, ProtocolError, SizeLimitError } from '../../../src/util/errors.js';
import { SCENARIOS, SIXTY_CHAR_TUNNEL_NAME, startPanosEmulator, type PanosEmulator, type PanosScenario } from '../../support/panos-emulator/index.js';
import { waitFor } from '../../support/wait-for.js';

/** The real transport is written elsewhere; this is just enough of one over ssh2's Client. */
class ChannelShell implements InteractiveShell {
  private buffer = '';
  private closed = false;
  private readonly decoder = new StringDecoder('utf8');
  private waiter: (() => void) | undefined;

  constructor(
    private readonly channel: ClientChannel,
    private readonly maxOutputBytes = 1 << 20,
  ) {
    channel.on('data', (d: Buffer) => {
      this.buffer += this.decoder.write(d);
      this.waiter?.();
    });
    channel.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  write(data: string): void {
    if (!this.closed) this.channel.write(data);
  }

  readUntil(pattern: RegExp, signal: AbortSignal): Promise<string> {
    return new Promise((resolve, reject) => {
      const finish = (fn: () => void) => {
        this.waiter = undefined;
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => finish(() => reject(abortReason(signal)));
      this.waiter = () => {
        const m = pattern.exec(this.buffer);
        if (m) {
          const end = m.index + m[0].length;
          const out = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end);
          finish(() => resolve(out));
        } else if (this.closed) {
          finish(() => reject(new ProtocolError('channel closed before the expected output')));
        } else if (this.buffer.length > this.maxOutputBytes) {
          finish(() => reject(new SizeLimitError('output limit exceeded')));
        }
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiter();
    });
  }

  close(): void {
    this.channel.close();
  }
}

const emulators: PanosEmulator[] = [];
after(async () => {
  await Promise.all(emulators.map((e) => e.close()));
});

async function start(s: PanosScenario): Promise<PanosEmulator> {
  const emu = await startPanosEmulator(s);
  emulators.push(emu);
  return emu;
}

function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function connect(emu: PanosEmulator, extra: Partial<ConnectConfig> = {}): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.on('keyboard-interactive', (_n, _i, _l, _prompts, finish) => finish([emu.password]));
    client.connect({
      host: emu.host,
      port: emu.port,
      username: emu.username,
      password: emu.password,
      readyTimeout: 5000,
      hostVerifier: (key: Buffer) => fingerprintOf(key) === emu.hostKeyFingerprint,
      ...extra,
    });
  });
}

function openShell(client: ssh2.Client, rows = 24): Promise<ChannelShell> {
  return new Promise((resolve, reject) => {
    client.shell({ term: 'vt100', rows, cols: 200 }, (err, channel) => (err ? reject(err) : resolve(new ChannelShell(channel))));
  });
}

/** Lets the emulator see the client leave before its counters are read. */
async function settled(emu: PanosEmulator): Promise<void> {
  await waitFor('the emulator to see the client leave', () => emu.connections() === 0).catch(() => undefined);
}

const deadline = (ms = 5000) => AbortSignal.timeout(ms);

/** A probe's worth of dialogue: prompt, pager off, system info, vpn flow. */
async function probe(s: PanosScenario) {
  const emu = await start(s);
  const client = await connect(emu);
  try {
    const session = await PanosCliSession.open(await openShell(client), { signal: deadline(), log: silentProbeLog });
    const info = parseSystemInfo(await session.run('show system info', deadline()));
    const rawFlow = await session.run('show vpn flow', deadline());
    const flow = parseVpnFlow(rawFlow);
    session.close();
    return { emu, session, info, flow, rawFlow };
  } finally {
    client.end();
  }
}

describe('PAN-OS emulator and CLI session over SSH', () => {
  it('all tunnels active: a whole probe, three commands, output without echo or prompt', async () => {
    const { emu, info, flow, rawFlow, session } = await probe(SCENARIOS.allActive);
    assert.equal(info.hostname, 'PA-LAB-01');
    assert.equal(info.model, 'PA-VM');
    assert.equal(info.uptimeSeconds, SCENARIOS.allActive.uptimeSeconds);
    assert.deepEqual(
      flow.tunnels.map((t) => [t.id, t.name, t.state, t.interface]),
      [
        [1, 'to-dc1', 'active', 'tunnel.1'],
        [2, 'to-dc2', 'active', 'tunnel.2'],
        [3, 'to-aws', 'active', 'tunnel.3'],
      ],
    );
    assert.match(rawFlow, /^total tunnels configured: +3\n/);
    assert.doesNotMatch(rawFlow, /show vpn flow|admin@|\x1b|\r/);
    assert.equal(session.prompt.haState, undefined);
    await settled(emu);
    assert.deepEqual(emu.commands(), ['set cli pager off', 'show system info', 'show vpn flow', 'exit']);
  });

  it('some tunnels inactiv on an active HA unit', async () => {
    const { flow, session } = await probe(SCENARIOS.someInactive);
    assert.equal(session.prompt.haState, 'active');
    assert.equal(session.prompt.host, 'PA-PRI');
    assert.deepEqual(flow.totals, { configured: 4, ipsecConfigured: 3, ipsecShown: 3 });
    assert.deepEqual(
      flow.tunnels.map((t) => `${t.name}=${t.state}/${t.monitor}`),
      ['IPSEC-BANK=inactiv/off', 'IPSEC-PARTNER=active/off', 'IPSEC-BRANCH-4=inactiv/down'],
    );
  });

  it('one tunnel in init', async () => {
    const { flow } = await probe(SCENARIOS.oneInit);
    assert.deepEqual(
      flow.tunnels.map((t) => t.state),
      ['active', 'init'],
    );
  });

  it('a 60-character tunnel name comes back whole', async () => {
    const { flow } = await probe(SCENARIOS.longName);
    assert.equal(SIXTY_CHAR_TUNNEL_NAME.length, 60);
    assert.equal(flow.tunnels[0]?.name, SIXTY_CHAR_TUNNEL_NAME);
    assert.equal(flow.tunnels[1]?.state, 'inactiv');
  });

  it('zero tunnels', async () => {
    const { flow } = await probe(SCENARIOS.zeroTunnels);
    assert.deepEqual(flow, { tunnels: [], totals: { configured: 0, ipsecConfigured: 0, ipsecShown: 0 }, skippedLines: 0, unknownColumns: [] });
  });

  it('an HA passive unit says so in its prompt', async () => {
    const { flow, session, info } = await probe(SCENARIOS.haPassive);
    assert.deepEqual(session.prompt, { user: 'admin', host: 'PA-SEC', haState: 'passive', mode: 'operational' });
    assert.equal(info.hostname, 'PA-SEC');
    assert.ok(flow.tunnels.every((t) => t.state === 'inactiv'));
  });

  it('waits out a unit slow to show its prompt', async () => {
    const started = performance.now();
    const { flow } = await probe(SCENARIOS.slowPrompt);
    assert.ok(performance.now() - started >= 1400);
    assert.equal(flow.tunnels.length, 1);
  });

  it('a connection dropped mid-output fails the command, naming it', async () => {
    const emu = await start(SCENARIOS.dropsMidOutput);
    const client = await connect(emu);
    client.on('error', () => {});
    try {
      const session = await PanosCliSession.open(await openShell(client), { signal: deadline(), log: silentProbeLog });
      await assert.rejects(session.run('show vpn flow', deadline()), (err: unknown) => {
        assert.ok(err instanceof ProbeError && !(err instanceof AbortedError));
        assert.match(err.message, /show vpn flow/);
        return true;
      });
    } finally {
      client.end();
    }
  });

  it('a unit that never prompts fails by the deadline with an AbortedError', async () => {
    const emu = await start(SCENARIOS.neverPrompts);
    const client = await connect(emu);
    try {
      await assert.rejects(
        PanosCliSession.open(await openShell(client), { signal: deadline(300), log: silentProbeLog }),
        (err: unknown) => err instanceof AbortedError && /first CLI prompt/.test(err.message),
      );
    } finally {
      client.end();
    }
  });

  it('pages long output until the pager is turned off', async () => {
    const emu = await start(SCENARIOS.pagerRefused);
    const client = await connect(emu);
    try {
      const shell = await openShell(client, 24);
      await shell.readUntil(/> $/, deadline());
      shell.write('show vpn flow\n');
      const firstPage = await shell.readUntil(/--more--$/, deadline());
      // The echoed command line, 23 lines of output and the marker: one 24-row screen after the echo.
      assert.equal(firstPage.split('\r\n').length, 1 + 23 + 1);
      shell.write('q');
      await shell.readUntil(/> $/, deadline());
      shell.write('set cli pager on\n');
      await shell.readUntil(/> $/, deadline());
      // Without pager off, the session pages through by itself; Enter brings a fresh prompt for it to find.
      shell.write('\n');
      const session = await PanosCliSession.open(shell, { signal: deadline(), log: silentProbeLog, setup: [] });
      const flow = parseVpnFlow(await session.run('show vpn flow', deadline()));
      assert.equal(flow.tunnels.length, 40);
      assert.deepEqual(
        flow.tunnels.map((t) => t.id),
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
    } finally {
      client.end();
    }
  });

  it('when `set cli pager off` is refused, warns and still reads every page', async () => {
    const emu = await start(SCENARIOS.pagerRefused);
    const client = await connect(emu);
    const log = new CapturingProbeLog(undefined);
    try {
      const session = await PanosCliSession.open(await openShell(client), { signal: deadline(), log });
      assert.ok(log.entries.some((e) => e.level === 'warn' && /Server error/.test(String(e.fields.error))));
      const flow = parseVpnFlow(await session.run('show vpn flow', deadline()));
      assert.equal(flow.tunnels.length, 40);
      assert.equal(flow.tunnels.filter((t) => t.state === 'inactiv').length, 14);
    } finally {
      client.end();
    }
  });

  it('answers what it does not know with the device error texts, and stays usable', async () => {
    const emu = await start(SCENARIOS.allActive);
    const client = await connect(emu);
    try {
      const session = await PanosCliSession.open(await openShell(client), { signal: deadline(), log: silentProbeLog });
      const refusal = (text: string) => (err: unknown) => err instanceof CliRefusal && err.cliError === text;
      await assert.rejects(session.run('foo bar', deadline()), refusal('Unknown command: foo'));
      await assert.rejects(session.run('show vpn flw', deadline()), refusal('Invalid syntax.'));
      await assert.rejects(session.run('set cli terminal width 9000', deadline()), refusal('Invalid syntax.'));
      assert.equal(await session.run('set cli terminal width 200', deadline()), '');
      assert.equal(await session.run('set cli scripting-mode on', deadline()), '');
      assert.equal(await session.run('configure', deadline()), 'Entering configuration mode');
      assert.equal(session.prompt.mode, 'configure');
      await assert.rejects(session.run('show vpn flow', deadline()), refusal('Invalid syntax.'));
      assert.equal(parseVpnFlow(await session.run('run show vpn flow', deadline())).tunnels.length, 3);
      await session.run('exit', deadline());
      assert.equal(session.prompt.mode, 'operational');
      assert.equal(parseSystemInfo(await session.run('show system info', deadline())).serial, '007951000123456');
    } finally {
      client.end();
    }
  });

  it('accepts keyboard-interactive, refuses a wrong password, exec and a shell without pty', async () => {
    const emu = await start(SCENARIOS.zeroTunnels);
    const kbd = await connect(emu, { password: undefined, tryKeyboard: true });
    kbd.end();
    await assert.rejects(connect(emu, { password: 'wrong' }), /authentication methods failed/i);

    const client = await connect(emu);
    try {
      await assert.rejects(new Promise((resolve, reject) => client.exec('show system info', (err, ch) => (err ? reject(err) : resolve(ch)))), /exec/i);
      await assert.rejects(new Promise((resolve, reject) => client.shell(false, (err, ch) => (err ? reject(err) : resolve(ch)))), /shell/i);
    } finally {
      client.end();
    }
  });

  it('exit closes the shell and the emulator counts connections', async () => {
    const emu = await start(SCENARIOS.zeroTunnels);
    const client = await connect(emu);
    assert.equal(emu.connections(), 1);
    const shell = await openShell(client);
    const session = await PanosCliSession.open(shell, { signal: deadline(), log: silentProbeLog });
    const closed = shell.readUntil(/(?!)/, deadline()).then(
      () => 'matched',
      (err: unknown) => err,
    );
    session.close();
    assert.ok((await closed) instanceof ProtocolError);
    client.end();
    await settled(emu);
    assert.equal(emu.connections(), 0);
  });
});
