// A real strongSwan lab in network namespaces: one gateway charon plus peer and road-warrior charons.
//
// Topology (per lab instance, all names carry a unique prefix):
//   <p>-lan   a bridge "br0" standing in for the internet, 192.0.2.0/24
//   <p>-gw    the gateway: eth0 192.0.2.1, LAN 198.51.100.1 and management 203.0.113.1 on lo
//   <p>-pa    site-a peer gateway, LAN 198.51.100.33 on lo
//   <p>-alice, <p>-bob (IKEv2 EAP-MSCHAPv2), <p>-carol (IKEv1 XAuth PSK, VICI lab only)
// The root namespace gets no lab address: the gateway's VICI port is forwarded by socat from
// 127.0.0.1:<ephemeral>, so concurrent labs never compete for routes.
// Every charon has a private /run (bind mount inside the mount namespace `ip netns exec` creates),
// because charon.pid and charon.ctl are hard-coded there.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildOrTearDown,
  addAddress,
  attachToBridge,
  createBridge,
  createNamespace,
  createVethPair,
  deleteNamespace,
  forwardPortFromNs,
  labPrefix,
  run,
  runInNs,
  spawnDaemon,
  Teardown,
  type Daemon,
} from './netns.js';
import { waitFor } from '../../support/wait-for.js';
import {
  CLIENTS,
  PLAN,
  STROKE_INCLUDE_DIR,
  clientConnName,
  clientSwanctlConf,
  gatewaySwanctlConf,
  strokeIncludedConf,
  strokeIpsecConf,
  strokeIpsecSecrets,
  strongswanConf,
  type ClientPlan,
} from './strongswan-config.js';
import { makeLabPki, type LabPki } from './strongswan-pki.js';

const CHARON = '/usr/lib/ipsec/charon';
const LOCAL_VICI = `tcp://127.0.0.1:${PLAN.viciPort}`;
const GW_VICI = `tcp://${PLAN.gw.mgmt}:${PLAN.viciPort}`;
const START_TIMEOUT_MS = 15_000;
const SA_TIMEOUT_MS = 30_000;

export interface StrongswanLab {
  /** Work directory with configs and logs (removed by stop()). */
  readonly dir: string;
  /** Network namespace of the gateway, e.g. for an sshd next to it. */
  readonly gatewayNs: string;
  /** The gateway's management address inside its namespace (203.0.113.1). */
  readonly mgmtAddress: string;
  /**
   * Shell commands that give a process started in gatewayNs (see spawnDaemon's `setup`) the gateway's
   * private /run and config files, so `ipsec`/`swanctl` run there talk to this gateway.
   */
  readonly gatewaySetup: string;
  /** The CA, CRL and gateway certificate the gateway holds (site-b is certificate-based). */
  readonly pki: LabPki;
  gatewayLogTail(lines?: number): string;
  /** SIGKILL the gateway daemon (a crash: peers are not told). */
  killCharon(): Promise<void>;
  /** Start the gateway again, reload its config and bring every tunnel of the scenario back up. */
  startCharon(): Promise<void>;
  stop(): Promise<void>;
}

export interface ViciLab extends StrongswanLab {
  /** VICI of the gateway as "host:port", reachable from the test process. */
  readonly target: string;
  /** Runs `swanctl <command> --uri tcp://target [rest…]` from the test process; returns stdout. */
  swanctl(args: string[]): Promise<string>;
}

export interface StrokeLab extends StrongswanLab {
  /** Runs `ipsec <args>` inside the gateway's namespace and private mounts; returns stdout. */
  ipsec(args: string[]): Promise<string>;
  /** The lab's copy of the file ipsec.conf includes (what the gateway reads after `ipsec update`). */
  readonly includedConfFile: string;
  /** Runs `swanctl <command> [rest…]` against the site-a peer's charon (VICI on its own 127.0.0.1); returns stdout. */
  siteASwanctl(args: string[]): Promise<string>;
  /** The site-a peer's namespace and VICI address in it, e.g. to forward that VICI port to a prober. */
  readonly siteAVici: { ns: string; host: string; port: number };
}

interface Node {
  ns: string;
  dir: string;
  logFile: string;
  daemon?: Daemon;
}

export interface ViciUnixLab extends StrongswanLab {
  /** charon's VICI socket as processes with gatewaySetup see it. */
  readonly socket: string;
  /** Runs `swanctl <command> --uri unix://socket [rest…]` in the gateway's namespace and mounts; returns stdout. */
  swanctl(args: string[]): Promise<string>;
}

const VICI_SCENARIO_CLIENTS = [CLIENTS.siteA, CLIENTS.alice, CLIENTS.bob, CLIENTS.carol];
const VICI_SCENARIO_SAS = { 'site-a': 1, 'rw-eap': 2, 'rw-xauth': 1 };

/**
 * Starts the VICI scenario's gateway with VICI at `uri` and brings every tunnel up. `swanctl` runs
 * swanctl so that it reaches that uri; returns what the lab needs to finish.
 */
async function startViciScenario(lab: LabBuilder, uri: string, swanctl: (gw: Node, args: string[]) => Promise<string>) {
  const gw = await lab.buildNetwork(VICI_SCENARIO_CLIENTS);
  writeFileSync(join(gw.dir, 'strongswan.conf'), strongswanConf({ logFile: gw.logFile, viciSocket: uri }));
  writeFileSync(join(gw.dir, 'swanctl.conf'), gatewaySwanctlConf());
  const pki = makeLabPki(join(gw.dir, 'pki'));
  // swanctl --file reads credentials (x509, x509ca, x509crl, private) next to the file it is given.
  for (const [sub, file] of [
    ['x509', pki.gwCert],
    ['x509ca', pki.caCert],
    ['x509crl', pki.crl],
    ['private', pki.gwKey],
  ] as const) {
    mkdirSync(join(gw.dir, sub), { recursive: true });
    copyFileSync(file, join(gw.dir, sub, sub === 'x509crl' ? 'ca.crl' : sub === 'private' ? 'gw.key' : sub === 'x509' ? 'gw.crt' : 'ca.crt'));
  }
  const startGateway = async () => {
    gw.daemon = lab.startDaemon(gw, CHARON, [], '');
    await waitFor(
      `charon in ${gw.ns} to answer on ${uri}`,
      async () => {
        await swanctl(gw, ['--stats']);
        return true;
      },
      { timeoutMs: START_TIMEOUT_MS, giveUpIf: () => exitedReason(gw), describe: () => gw.daemon?.logTail() ?? '' },
    );
    await swanctl(gw, ['--load-all', '--file', join(gw.dir, 'swanctl.conf')]);
  };
  await Promise.all([startGateway(), ...lab.clients.map((c) => lab.startClient(c))]);
  await lab.connectClients();
  const viciUp = () => lab.waitGatewaySas(VICI_SCENARIO_SAS, () => swanctl(gw, ['--list-sas']));
  await viciUp();
  return { gw, startGateway, viciUp, pki };
}

/**
 * The VICI scenario with VICI on charon's unix socket only (the packaged default): reachable from
 * processes that share the gateway's private /run (gatewaySetup), such as an sshd next to it.
 */
export async function startViciUnixLab(): Promise<ViciUnixLab> {
  const socket = '/var/run/charon.vici';
  const uri = `unix://${socket}`;
  return withCleanupOnFailure(async (lab) => {
    const swanctl = async (gw: Node, args: string[]) => {
      const r = await runInNs(gw.ns, 'sh', ['-c', `${privateRun(gw)}\nexec swanctl "$@"`, 'swanctl', ...withUri(args, uri)], {
        env: nodeEnv(gw),
        timeoutMs: 10_000,
      });
      return r.stdout;
    };
    const { gw, startGateway, viciUp, pki } = await startViciScenario(lab, uri, swanctl);
    return { ...lab.common(gw, startGateway, viciUp, privateRun(gw)), pki, socket, swanctl: (args) => swanctl(gw, args) };
  });
}

/** The VICI gateway: swanctl-configured site-a (up), site-b (down), rw-eap (alice, bob), rw-xauth (carol). */
export async function startViciLab(): Promise<ViciLab> {
  return withCleanupOnFailure(async (lab) => {
    const { gw, startGateway, viciUp, pki } = await startViciScenario(lab, GW_VICI, (gw, args) => gwSwanctl(gw, args));

    const fwd = await forwardPortFromNs(gw.ns, { host: PLAN.gw.mgmt, port: PLAN.viciPort }, join(lab.dir, 'vici-forward.log'));
    lab.teardown.add('vici forward', () => fwd.daemon.stop());
    const target = `127.0.0.1:${fwd.port}`;

    async function gwSwanctl(gw: Node, args: string[]): Promise<string> {
      const r = await runInNs(gw.ns, 'swanctl', withUri(args, GW_VICI), { env: nodeEnv(gw), timeoutMs: 10_000 });
      return r.stdout;
    }

    return {
      ...lab.common(gw, startGateway, viciUp, privateRun(gw)),
      pki,
      target,
      async swanctl(args: string[]) {
        return (await run('swanctl', withUri(args, `tcp://${target}`), { env: nodeEnv(gw) })).stdout;
      },
    };
  });
}

/**
 * The stroke gateway: starter + ipsec.conf with site-a (up), site-b (down, in an included file),
 * rw-eap (alice, bob via EAP-MSCHAPv2) and a conn with auto=ignore.
 */
export async function startStrokeLab(): Promise<StrokeLab> {
  const clients = [CLIENTS.siteA, CLIENTS.alice, CLIENTS.bob];
  return withCleanupOnFailure(async (lab) => {
    const gw = await lab.buildNetwork(clients);
    const includeDir = join(gw.dir, 'include');
    mkdirSync(includeDir);
    writeFileSync(join(gw.dir, 'strongswan.conf'), strongswanConf({ logFile: gw.logFile, stroke: true }));
    writeFileSync(join(gw.dir, 'ipsec.conf'), strokeIpsecConf());
    writeFileSync(join(gw.dir, 'ipsec.secrets'), strokeIpsecSecrets(), { mode: 0o600 });
    writeFileSync(join(includeDir, 'lab-extra.conf'), strokeIncludedConf());
    const pki = makeLabPki(join(gw.dir, 'pki'));
    const ipsecD = (sub: string, file: string, as: string) => {
      mkdirSync(join(gw.dir, 'ipsec.d', sub), { recursive: true });
      copyFileSync(file, join(gw.dir, 'ipsec.d', sub, as));
      return `mount --bind ${join(gw.dir, 'ipsec.d', sub)} /etc/ipsec.d/${sub}`;
    };
    const mounts = [
      `mount --bind ${join(gw.dir, 'ipsec.conf')} /etc/ipsec.conf`,
      `mount --bind ${join(gw.dir, 'ipsec.secrets')} /etc/ipsec.secrets`,
      `mount --bind ${includeDir} ${STROKE_INCLUDE_DIR}`,
      ipsecD('certs', pki.gwCert, 'gw.crt'),
      ipsecD('cacerts', pki.caCert, 'ca.crt'),
      ipsecD('crls', pki.crl, 'ca.crl'),
      ipsecD('private', pki.gwKey, 'gw.key'),
    ].join('\n');
    const setup = `${privateRun(gw)}\n${mounts}`;

    // A fresh process with the gateway's mounts, as an sshd next to it would run it: works (and fails
    // realistically) whether or not the daemon is up.
    const ipsec = async (args: string[]) => {
      const r = await runInNs(gw.ns, 'sh', ['-c', `${setup}\nexec ipsec "$@"`, 'ipsec', ...args], { env: nodeEnv(gw) });
      return r.stdout;
    };
    const startGateway = async () => {
      // --nofork keeps starter (and thereby charon) in the process group spawnDaemon controls.
      gw.daemon = lab.startDaemon(gw, 'ipsec', ['start', '--nofork'], mounts);
      await waitFor(
        'starter to load the ipsec.conf conns into charon',
        async () => {
          const out = await ipsec(['statusall']);
          return /^\s+rw-eap:/m.test(out) && /^\s+site-b:/m.test(out);
        },
        { timeoutMs: START_TIMEOUT_MS, giveUpIf: () => exitedReason(gw), describe: () => gw.daemon?.logTail() ?? '' },
      );
    };
    await Promise.all([startGateway(), ...lab.clients.map((c) => lab.startClient(c))]);
    await lab.connectClients();
    const strokeUp = () => lab.waitGatewaySas({ 'site-a': 1, 'rw-eap': 2 }, () => ipsec(['status']));
    await strokeUp();

    const siteA = lab.clients.find((c) => c.plan === CLIENTS.siteA)?.node;
    if (!siteA) throw new Error('the stroke lab has no site-a peer');
    return {
      ...lab.common(gw, startGateway, strokeUp, setup),
      pki,
      ipsec,
      includedConfFile: join(includeDir, 'lab-extra.conf'),
      siteAVici: { ns: siteA.ns, host: '127.0.0.1', port: PLAN.viciPort },
      async siteASwanctl(args: string[]) {
        return (await runInNs(siteA.ns, 'swanctl', withUri(args, LOCAL_VICI), { env: nodeEnv(siteA), timeoutMs: SA_TIMEOUT_MS + 5000 })).stdout;
      },
    };
  });
}

function withUri(args: string[], uri: string): string[] {
  // swanctl only honours --uri after the command option.
  const [command, ...rest] = args;
  if (command === undefined) throw new Error('swanctl needs a command, e.g. --list-sas');
  return [command, '--uri', uri, ...rest];
}

function privateRun(node: Node): string {
  return `mount --bind ${join(node.dir, 'run')} /run`;
}

function nodeEnv(node: Node): NodeJS.ProcessEnv {
  return { ...process.env, STRONGSWAN_CONF: join(node.dir, 'strongswan.conf') };
}

async function withCleanupOnFailure<T>(build: (lab: LabBuilder) => Promise<T>): Promise<T> {
  const lab = new LabBuilder();
  return buildOrTearDown(lab.teardown, () => build(lab));
}

class LabBuilder {
  readonly prefix = labPrefix('sw');
  readonly dir = mkdtempSync(join(tmpdir(), `${this.prefix}-`));
  readonly teardown = new Teardown();
  clients: { plan: ClientPlan; node: Node }[] = [];

  constructor() {
    this.teardown.add('work dir', () => rmSync(this.dir, { recursive: true, force: true }));
  }

  private node(name: string): Node {
    const dir = join(this.dir, name);
    mkdirSync(join(dir, 'run'), { recursive: true });
    return { ns: `${this.prefix}-${name}`, dir, logFile: join(dir, 'charon.log') };
  }

  private async addNamespace(name: string): Promise<string> {
    const ns = `${this.prefix}-${name}`;
    this.teardown.add(`namespace ${ns}`, () => deleteNamespace(ns));
    await createNamespace(ns);
    return ns;
  }

  /** Namespaces, the bridge and addresses for the gateway and the given clients; returns the gateway node. */
  async buildNetwork(clients: ClientPlan[]): Promise<Node> {
    const lan = await this.addNamespace('lan');
    await createBridge('br0', lan);
    const gw = this.node('gw');
    this.clients = clients.map((plan) => ({ plan, node: this.node(plan.name) }));
    const hosts: { node: Node; outside: string; onLo: string[] }[] = [
      { node: gw, outside: PLAN.gw.outside, onLo: [PLAN.gw.lan, PLAN.gw.mgmt] },
      ...this.clients.map(({ plan, node }) => ({
        node,
        outside: plan.outside,
        onLo: plan.kind === 'site' ? [PLAN.siteA.lan] : [],
      })),
    ];
    await Promise.all(
      hosts.map(async ({ node, outside, onLo }) => {
        const name = node.ns.slice(this.prefix.length + 1);
        await this.addNamespace(name);
        const port = `p-${name}`;
        await createVethPair('eth0', port, { nsA: node.ns, nsB: lan });
        await attachToBridge(port, 'br0', lan);
        await addAddress('eth0', `${outside}/24`, node.ns);
        for (const a of onLo) await addAddress('lo', `${a}/32`, node.ns);
      }),
    );
    return gw;
  }

  /** Starts a daemon with a fresh private /run; `mounts` are extra bind mounts (shell lines). */
  startDaemon(node: Node, command: string, args: string[], mounts: string): Daemon {
    // Empty the run dir in place rather than replacing it: processes that share the gateway's mounts
    // (an sshd via gatewaySetup) keep a bind of this very directory across daemon restarts.
    const runDir = join(node.dir, 'run');
    for (const entry of readdirSync(runDir)) {
      if (/^(charon|starter)/.test(entry)) rmSync(join(runDir, entry), { force: true });
    }
    // sshd (started next to the stroke gateway by other tests) insists on /run/sshd.
    mkdirSync(join(runDir, 'sshd'), { recursive: true });
    const daemon = spawnDaemon({
      ns: node.ns,
      command,
      args,
      logFile: node.logFile,
      env: nodeEnv(node),
      setup: [privateRun(node), mounts].filter(Boolean).join('\n'),
    });
    this.teardown.add(`daemon in ${node.ns}`, () => daemon.stop());
    return daemon;
  }

  async waitViciReady(node: Node, uri: string): Promise<void> {
    await waitFor(
      `charon in ${node.ns} to answer on ${uri}`,
      async () => {
        await runInNs(node.ns, 'swanctl', ['--stats', '--uri', uri], { timeoutMs: 3000, env: nodeEnv(node) });
        return true;
      },
      { timeoutMs: START_TIMEOUT_MS, giveUpIf: () => exitedReason(node), describe: () => node.daemon?.logTail() ?? '' },
    );
  }

  async startClient({ plan, node }: { plan: ClientPlan; node: Node }): Promise<void> {
    writeFileSync(join(node.dir, 'strongswan.conf'), strongswanConf({ logFile: node.logFile, viciSocket: LOCAL_VICI }));
    writeFileSync(join(node.dir, 'swanctl.conf'), clientSwanctlConf(plan));
    node.daemon = this.startDaemon(node, CHARON, [], '');
    await this.waitViciReady(node, LOCAL_VICI);
    await runInNs(node.ns, 'swanctl', ['--load-all', '--file', join(node.dir, 'swanctl.conf'), '--uri', LOCAL_VICI], {
      env: nodeEnv(node),
    });
  }

  /** (Re)initiates every client towards the gateway, then sends pings through each tunnel. */
  async connectClients(): Promise<void> {
    await Promise.all(
      this.clients.map(async ({ plan, node }) => {
        const conn = clientConnName(plan);
        // A stale IKE_SA (gateway crashed) would be reused by --initiate and time out.
        await runInNs(node.ns, 'swanctl', ['--terminate', '--ike', conn.ike, '--force', '--uri', LOCAL_VICI], {
          okExitCodes: [0, 1],
          env: nodeEnv(node),
        });
        await runInNs(node.ns, 'swanctl', ['--initiate', '--child', conn.child, '--timeout', String(SA_TIMEOUT_MS / 1000), '--uri', LOCAL_VICI], {
          timeoutMs: SA_TIMEOUT_MS + 5000,
          env: nodeEnv(node),
        }).catch((err: unknown) => {
          const why = err instanceof Error ? err.message : String(err);
          throw new Error(`${plan.name} could not bring up ${conn.child}: ${why}\n--- ${plan.name} log ---\n${node.daemon?.logTail(25)}`);
        });
        await waitFor(`a TCP round trip from ${plan.name} through its tunnel to ${PLAN.gw.lan}`, () => roundTrip(node.ns), {
          timeoutMs: 10_000,
          describe: () => node.daemon?.logTail(20) ?? '',
        });
      }),
    );
  }

  /** Polls the gateway's status text until each named conn shows that many established IKE_SAs with an installed child. */
  async waitGatewaySas(expect: Record<string, number>, status: () => Promise<string>): Promise<void> {
    let last = '';
    await waitFor(
      `gateway SAs ${JSON.stringify(expect)}`,
      async () => {
        last = await status();
        return Object.entries(expect).every(([conn, n]) => countEstablished(last, conn) >= n);
      },
      { timeoutMs: SA_TIMEOUT_MS, describe: () => `--- status ---\n${last}` },
    );
  }

  common(gw: Node, startGateway: () => Promise<void>, allUp: () => Promise<void>, setup: string): Omit<StrongswanLab, 'pki'> {
    let stopped = false;
    const gatewayDir = gw.dir;
    return {
      dir: this.dir,
      gatewayNs: gw.ns,
      mgmtAddress: PLAN.gw.mgmt,
      gatewaySetup: setup,
      gatewayLogTail: (lines) => gw.daemon?.logTail(lines) ?? '',
      killCharon: async () => {
        // starter puts charon in a session of its own, so the process group alone misses it.
        const charonPid = readCharonPid(gatewayDir);
        gw.daemon?.kill('SIGKILL');
        if (charonPid !== undefined) process.kill(charonPid, 'SIGKILL');
        await gw.daemon?.exited;
        await waitFor('the killed charon to be gone', async () => charonPid === undefined || !isAlive(charonPid), {
          timeoutMs: 5000,
          intervalMs: 50,
        });
      },
      startCharon: async () => {
        if (gw.daemon?.isRunning()) throw new Error('gateway charon is already running');
        await startGateway();
        await this.connectClients();
        await allUp();
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await this.teardown.run();
      },
    };
  }
}

function exitedReason(node: Node): string | undefined {
  return node.daemon?.isRunning() ? undefined : `the daemon in ${node.ns} exited`;
}

function readCharonPid(nodeDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(nodeDir, 'run', 'charon.pid'), 'utf8').trim());
    // Guard against a recycled pid: only ever signal a charon.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('charon') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** False for gone and for zombie processes (PID 1 here reaps them only after a while). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

/**
 * Sends traffic through a tunnel and proves it came back. There is no ping on the machine, so connect to
 * a closed TCP port on the gateway's LAN address: a "refused" means the SYN went in and the RST came out
 * through the tunnel (a timeout means it did not).
 */
async function roundTrip(ns: string): Promise<boolean> {
  for (let i = 0; i < 3; i++) {
    const r = await runInNs(ns, 'socat', ['-u', 'OPEN:/dev/null', `TCP:${PLAN.gw.lan}:9,connect-timeout=2`], {
      okExitCodes: [0, 1],
    });
    if (!/refused/i.test(r.stderr)) return false;
  }
  return true;
}

/**
 * Counts IKE_SAs of `conn` that are ESTABLISHED and have an INSTALLED child. Understands both
 * `swanctl --list-sas` ("conn: #1, ESTABLISHED" / "  child: #1, reqid 1, INSTALLED") and
 * `ipsec status` ("conn[1]: ESTABLISHED" / "conn{1}:  INSTALLED").
 */
function countEstablished(text: string, conn: string): number {
  const swanctlBlocks = text.split(/^(?=\S)/m).filter((block) => block.startsWith(`${conn}: #`));
  const viaSwanctl = swanctlBlocks.filter((block) => /^\S+: #\d+, ESTABLISHED/.test(block) && /^ {2}\S+: #\d+, reqid \d+, INSTALLED/m.test(block)).length;
  if (viaSwanctl > 0) return viaSwanctl;
  const lines = text.split('\n').map((line) => line.trim());
  const ike = lines.filter((line) => line.startsWith(`${conn}[`) && /^\S+\[\d+\]: ESTABLISHED/.test(line)).length;
  const child = lines.filter((line) => line.startsWith(`${conn}{`) && /^\S+\{\d+\}:\s+INSTALLED/.test(line)).length;
  return Math.min(ike, child);
}
