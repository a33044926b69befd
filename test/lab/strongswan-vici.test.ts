// The strongswan-vici-tcp prober end to end: a real charon gateway (see support/strongswan-lab.ts), the
// exporter in-process. Every fact is compared with what swanctl reports on the same daemon, read right
// before and right after the probe: stable facts must match exactly, moving counters and timers must lie
// within the window between the two readings.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { getPoolsResponse, listConnEvents, listSaEvents, statsResponse, versionResponse } from "../support/charon-shapes.js";
import { sampleValue, startTestExporter, type TestExporter } from "../support/exporter.js";
import { startViciServer, type ScriptedViciServer } from "../support/vici-server.js";
import { run, runInNs } from "./support/netns.js";
import { PLAN, SHUNTS } from "./support/strongswan-config.js";
import { assertCertificates } from "./support/cert-compare.js";
import { startViciLab, type ViciLab } from "./support/strongswan-lab.js";
import {
  childSas,
  labelValues,
  matching,
  maxOf,
  minOf,
  readSwanctl,
  samples,
  stableFacts,
  sumOf,
  userOf,
  type SwanctlChildSa,
  type SwanctlConn,
  type SwanctlView,
} from "./support/vici-compare.js";

const MODULE_TIMEOUT_S = 5;
const MODULES = `modules:
  vici:
    prober: strongswan-vici-tcp
    timeout: ${MODULE_TIMEOUT_S}s
  vici_other:
    prober: strongswan-vici-tcp
    timeout: 2s
`;

/** The lab's scenario; the tests also check that swanctl agrees, so a lab drifting from it is noticed. */
const SCENARIO = {
  "site-a": { kind: "site-to-site", state: "up", sessions: 1, children: ["net-a"] },
  "site-b": { kind: "site-to-site", state: "down", sessions: 0, children: ["net-b"] },
  "rw-eap": { kind: "remote-access", state: "up", sessions: 2, children: ["rw-eap-net"] },
  "rw-xauth": { kind: "remote-access", state: "up", sessions: 1, children: ["rw-xauth-net"] },
} as const;
const USERS = [
  { tunnel: "rw-eap", user: "alice", pool: "rw-pool" },
  { tunnel: "rw-eap", user: "bob", pool: "rw-pool" },
  { tunnel: "rw-xauth", user: "carol", pool: "rw-xauth-pool" },
] as const;
const TUNNEL_STATES = ["up", "partial", "down", "unknown", "ignored"] as const;
/** A dead charon seen through the socat forward: the connection is accepted, then closed or reset. */
const CLOSED_REASON = /probe failed reason="(?:vici connection closed by|connection reset by|connection closed by) 127\.0\.0\.1:\d+[^"]*"/;

let lab: ViciLab;
let exporter: TestExporter;
/** A scripted VICI server standing in for another gateway, probed with another module. */
let other: ScriptedViciServer;

interface Measurement {
  before: SwanctlView;
  after: SwanctlView;
  text: string;
  /** Wall time of the HTTP request. */
  seconds: number;
}

/**
 * swanctl, probe, swanctl. A reading whose stable facts changed between the two swanctl rounds (an SA
 * came or went) says nothing about the exporter, so it is repeated, a few times at most.
 */
async function measure(): Promise<Measurement> {
  let lastDiff = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = await readSwanctl(lab.swanctl);
    const t0 = performance.now();
    const res = await exporter.get(`/probe?module=vici&target=${lab.target}`);
    const text = await res.text();
    const seconds = (performance.now() - t0) / 1000;
    const after = await readSwanctl(lab.swanctl);
    assert.equal(res.status, 200, text);
    assert.equal(sampleValue(text, "probe_success"), 1, text);
    if (stableFacts(before) === stableFacts(after)) return { before, after, text, seconds };
    lastDiff = `--- before ---\n${before.text}\n--- after ---\n${after.text}`;
  }
  throw new Error(`the gateway kept changing between two swanctl readings:\n${lastDiff}`);
}

function only(text: string, name: string, labels: Record<string, string>): number {
  const found = matching(text, name, labels);
  assert.equal(found.length, 1, `exactly one ${name}${JSON.stringify(labels)} in:\n${text}`);
  return found[0]?.value ?? NaN;
}

/** Asserts lo <= value <= hi for the two readings in either order (counters grow, timers shrink). */
function assertWithin(value: number, a: number | undefined, b: number | undefined, what: string, slack = 0): void {
  assert.ok(a !== undefined && b !== undefined, `swanctl reports no ${what}`);
  const lo = Math.min(a, b) - slack;
  const hi = Math.max(a, b) + slack;
  assert.ok(value >= lo && value <= hi, `${what}: exporter says ${value}, swanctl ${a} before and ${b} after`);
}

function sortedEqual(actual: string[], expected: string[], what: string): void {
  assert.deepEqual([...actual].sort(), [...expected].sort(), what);
}

type Counter = (c: SwanctlChildSa) => number;
const TUNNEL_COUNTERS: [string, Counter][] = [
  ["vpn_tunnel_receive_bytes_total", (c) => c.bytesIn],
  ["vpn_tunnel_transmit_bytes_total", (c) => c.bytesOut],
  ["vpn_tunnel_receive_packets_total", (c) => c.packetsIn],
  ["vpn_tunnel_transmit_packets_total", (c) => c.packetsOut],
];

// --- comparisons, shared by the first reading and the one after a gateway restart ---------------------

function assertDaemonAndProbe(m: Measurement): void {
  const { text, before, after } = m;
  assert.equal(sampleValue(text, "probe_success"), 1, text);
  const info = samples(text, "vpn_info");
  assert.equal(info.length, 1, text);
  assert.equal(info[0]?.value, 1);
  assert.deepEqual(
    { vendor: info[0]?.labels.vendor, product: info[0]?.labels.product, version: info[0]?.labels.version, os: info[0]?.labels.os },
    { vendor: "strongswan", ...before.daemon },
    "vpn_info against `swanctl --version --daemon`",
  );
  assert.equal(sampleValue(text, "strongswan_ike_sas"), before.stats.ikeSasTotal, "strongswan_ike_sas against --stats");
  assert.equal(sampleValue(text, "strongswan_ike_sas_half_open"), before.stats.ikeSasHalfOpen);
  assert.equal(before.stats.ikeSasTotal, before.sas.length, "--stats and --list-sas agree on the IKE_SA count");
  // charon truncates "running"; the exporter derives the uptime from the second-truncated start time.
  assertWithin(sampleValue(text, "vpn_uptime_seconds") ?? NaN, before.stats.running.min, after.stats.running.max, "uptime", 1);
  const wall = m.seconds;
  const probed = sampleValue(text, "probe_duration_seconds") ?? NaN;
  assert.ok(probed > 0 && probed <= wall, `probe_duration_seconds ${probed}, request took ${wall}s`);
  assert.ok(wall < 2, `the probe took ${wall}s`);
}

const isShunt = (c: SwanctlConn) => Object.values(c.modes).every((m) => m === "PASS" || m === "DROP");

function assertTunnels({ text, before, after }: Measurement): void {
  const tunnelConns = before.conns.filter((c) => !isShunt(c));
  const conns = tunnelConns.map((c) => c.name);
  sortedEqual(conns, Object.keys(SCENARIO), "swanctl --list-conns has the scenario's conns");
  sortedEqual(labelValues(text, "vpn_tunnel_state", "tunnel"), conns, "a vpn_tunnel_state for every conn, and no other");
  sortedEqual(labelValues(text, "vpn_tunnel_up", "tunnel"), conns, "a vpn_tunnel_up for every conn");
  for (const conn of tunnelConns) {
    const scenario = SCENARIO[conn.name as keyof typeof SCENARIO];
    const sas = before.sas.filter((sa) => sa.conn === conn.name);
    const installed = sas.some((sa) => sa.children.some((c) => c.state === "INSTALLED"));
    assert.ok(installed || sas.length === 0, `${conn.name} is neither up nor down in swanctl:\n${before.text}`);
    const state = installed ? "up" : "down";
    assert.equal(state, scenario.state, `swanctl has ${conn.name} ${state}`);
    assert.equal(sas.length, scenario.sessions, `swanctl lists ${sas.length} IKE_SAs for ${conn.name}`);

    for (const st of TUNNEL_STATES) {
      assert.equal(only(text, "vpn_tunnel_state", { tunnel: conn.name, state: st }), st === state ? 1 : 0, `${conn.name} ${st}`);
    }
    const up = matching(text, "vpn_tunnel_up", { tunnel: conn.name });
    assert.deepEqual(up.map((s) => [s.labels.kind, s.value]), [[scenario.kind, state === "up" ? 1 : 0]], `vpn_tunnel_up of ${conn.name}`);
    assert.equal(only(text, "vpn_tunnel_sessions", { tunnel: conn.name }), sas.length, `vpn_tunnel_sessions of ${conn.name}`);

    sortedEqual(conn.children, [...scenario.children], `swanctl's children of ${conn.name}`);
    sortedEqual(labelValues(text, "vpn_tunnel_child_up", "child", { tunnel: conn.name }), conn.children, `children of ${conn.name}`);
    for (const child of conn.children) {
      const childUp = childSas(before, conn.name, child).some((c) => c.state === "INSTALLED") ? 1 : 0;
      assert.equal(only(text, "vpn_tunnel_child_up", { tunnel: conn.name, child }), childUp, `${conn.name}/${child}`);
    }

    const traffic = (v: SwanctlView, f: Counter) => sumOf(v.sas.filter((sa) => sa.conn === conn.name).flatMap((sa) => sa.children), f);
    for (const [series, f] of TUNNEL_COUNTERS) {
      assertWithin(only(text, series, { tunnel: conn.name }), traffic(before, f), traffic(after, f), `${series} ${conn.name}`);
    }
  }
}

/** The PASS and DROP conns swanctl lists are shunts: counted by mode, named, never a tunnel. */
function assertShunts({ text, before }: Measurement): void {
  const shunts = before.conns.filter(isShunt);
  assert.deepEqual(
    shunts.map((c) => [c.name, c.modes]).sort(),
    [
      [SHUNTS.pass.conn, { [SHUNTS.pass.child]: "PASS" }],
      [SHUNTS.drop.conn, { [SHUNTS.drop.child]: "DROP" }],
    ].sort(),
    `swanctl --list-conns shows the lab's bypass and drop conns:\n${before.text}`,
  );
  for (const c of shunts) {
    for (const family of ["vpn_tunnel_up", "vpn_tunnel_state", "vpn_tunnel_sessions", "vpn_tunnel_child_up"]) {
      assert.deepEqual(matching(text, family, { tunnel: c.name }), [], `${c.name} is no tunnel in ${family}`);
    }
  }
  assert.equal(only(text, "vpn_shunts", { mode: "pass" }), 1);
  assert.equal(only(text, "vpn_shunts", { mode: "drop" }), 1);
  assert.equal(only(text, "strongswan_shunt_info", { conn: SHUNTS.pass.conn, child: SHUNTS.pass.child, mode: "pass" }), 1);
  assert.equal(only(text, "strongswan_shunt_info", { conn: SHUNTS.drop.conn, child: SHUNTS.drop.child, mode: "drop" }), 1);
}

function assertUsersAndPools({ text, before, after }: Measurement): void {
  // vpn_user_sessions: one series per (tunnel, user), the count of that user's IKE_SAs.
  const expected = new Map<string, number>();
  for (const sa of before.sas) {
    const k = JSON.stringify([sa.conn, userOf(sa)]);
    expected.set(k, (expected.get(k) ?? 0) + 1);
  }
  const exported = new Map(samples(text, "vpn_user_sessions").map((s) => [JSON.stringify([s.labels.tunnel, s.labels.user]), s.value]));
  assert.deepEqual(new Map([...exported].sort()), new Map([...expected].sort()), "vpn_user_sessions against --list-sas");

  for (const { tunnel, user, pool } of USERS) {
    assert.equal(only(text, "vpn_user_sessions", { tunnel, user }), 1, `${tunnel}/${user}`);
    const mine = (v: SwanctlView) => v.sas.filter((sa) => sa.conn === tunnel && sa.userId === user);
    const [sa] = mine(before);
    assert.ok(sa && sa.virtualIps.length > 0, `swanctl lists ${user} on ${tunnel} with a virtual IP:\n${before.text}`);
    const leases = before.pools.find((p) => p.name === pool)?.leases ?? [];
    for (const vip of sa.virtualIps) {
      assert.ok(
        leases.some((l) => l.address === vip && l.identity === user && l.status === "online"),
        `${user}'s virtual IP ${vip} is an online lease of ${pool}:\n${before.text}`,
      );
    }
    const bytes = (v: SwanctlView, f: Counter) => sumOf(mine(v).flatMap((s) => s.children), f);
    assertWithin(only(text, "vpn_user_receive_bytes_total", { tunnel, user }), bytes(before, (c) => c.bytesIn), bytes(after, (c) => c.bytesIn), `${user} rx bytes`);
    assertWithin(only(text, "vpn_user_transmit_bytes_total", { tunnel, user }), bytes(before, (c) => c.bytesOut), bytes(after, (c) => c.bytesOut), `${user} tx bytes`);
    assertWithin(only(text, "vpn_user_receive_packets_total", { tunnel, user }), bytes(before, (c) => c.packetsIn), bytes(after, (c) => c.packetsIn), `${user} rx packets`);
    assertWithin(only(text, "vpn_user_transmit_packets_total", { tunnel, user }), bytes(before, (c) => c.packetsOut), bytes(after, (c) => c.packetsOut), `${user} tx packets`);
    assertWithin(
      only(text, "vpn_user_connected_seconds", { tunnel, user }),
      maxOf(mine(before), (s) => s.establishedSeconds),
      maxOf(mine(after), (s) => s.establishedSeconds),
      `${user} connected seconds`,
    );
  }

  sortedEqual(labelValues(text, "vpn_pool_size", "pool"), before.pools.map((p) => p.name), "a vpn_pool_size for every pool");
  sortedEqual(before.pools.map((p) => p.name), ["rw-pool", "rw-xauth-pool"], "swanctl's pools");
  for (const p of before.pools) {
    assert.equal(p.online, p.leases.filter((l) => l.status === "online").length, `swanctl's online count of ${p.name} matches its leases`);
    assert.equal(only(text, "vpn_pool_size", { pool: p.name }), p.size, `vpn_pool_size ${p.name}`);
    assert.equal(only(text, "vpn_pool_leases", { pool: p.name, state: "online" }), p.online, `online leases of ${p.name}`);
    assert.equal(only(text, "vpn_pool_leases", { pool: p.name, state: "offline" }), p.offline, `offline leases of ${p.name}`);
  }
  assert.equal(only(text, "vpn_pool_leases", { pool: "rw-pool", state: "online" }), 2);
  assert.equal(only(text, "vpn_pool_leases", { pool: "rw-xauth-pool", state: "online" }), 1);
}

function assertStrongswanDetail({ text, before, after }: Measurement): void {
  // IKE_SAs and CHILD_SAs by their labels, counted from --list-sas.
  const count = (keys: string[][]) => {
    const m = new Map<string, number>();
    for (const k of keys.map((x) => JSON.stringify(x))) m.set(k, (m.get(k) ?? 0) + 1);
    return new Map([...m].sort());
  };
  const exportedCount = (name: string, labels: string[]) =>
    new Map(samples(text, name).map((s) => [JSON.stringify(labels.map((l) => s.labels[l])), s.value] as const).sort());
  assert.deepEqual(
    exportedCount("strongswan_ike_sas_by_conn", ["conn", "version", "state"]),
    count(before.sas.map((sa) => [sa.conn, String(sa.version), sa.state])),
    "strongswan_ike_sas_by_conn against --list-sas",
  );
  assert.deepEqual(
    exportedCount("strongswan_child_sas", ["conn", "child", "state"]),
    count(before.sas.flatMap((sa) => sa.children.map((c) => [sa.conn, c.name, c.state]))),
    "strongswan_child_sas against --list-sas",
  );

  const live = [...new Set(before.sas.flatMap((sa) => sa.children.map((c) => JSON.stringify([sa.conn, c.name]))))];
  assert.ok(live.includes(JSON.stringify(["site-a", "net-a"])), `net-a of site-a is live:\n${before.text}`);
  for (const [conn, child] of live.map((k) => JSON.parse(k) as [string, string])) {
    const labels = { conn, child };
    const b = childSas(before, conn, child);
    const a = childSas(after, conn, child);
    const within = (series: string, pick: (x: typeof b) => number | undefined) =>
      assertWithin(only(text, series, labels), pick(b), pick(a), `${series}{conn="${conn}",child="${child}"}`);
    within("strongswan_child_sa_receive_bytes_total", (x) => sumOf(x, (c) => c.bytesIn));
    within("strongswan_child_sa_transmit_bytes_total", (x) => sumOf(x, (c) => c.bytesOut));
    within("strongswan_child_sa_receive_packets_total", (x) => sumOf(x, (c) => c.packetsIn));
    within("strongswan_child_sa_transmit_packets_total", (x) => sumOf(x, (c) => c.packetsOut));
    within("strongswan_child_sa_rekey_seconds", (x) => minOf(x, (c) => c.rekeySeconds));
    within("strongswan_child_sa_lifetime_seconds", (x) => minOf(x, (c) => c.lifeSeconds));
    within("strongswan_child_sa_installed_seconds", (x) => maxOf(x, (c) => c.installSeconds));
  }
  // site-a carried traffic both ways when the lab came up.
  assert.ok(only(text, "strongswan_child_sa_receive_packets_total", { conn: "site-a", child: "net-a" }) > 0);
  assert.ok(only(text, "strongswan_child_sa_transmit_packets_total", { conn: "site-a", child: "net-a" }) > 0);

  for (const conn of new Set(before.sas.map((sa) => sa.conn))) {
    const mine = (v: SwanctlView) => v.sas.filter((sa) => sa.conn === conn);
    assertWithin(
      only(text, "strongswan_ike_sa_established_seconds", { conn }),
      maxOf(mine(before), (sa) => sa.establishedSeconds),
      maxOf(mine(after), (sa) => sa.establishedSeconds),
      `IKE_SA age of ${conn}`,
    );
    assertWithin(
      only(text, "strongswan_ike_sa_rekey_seconds", { conn }),
      minOf(mine(before), (sa) => sa.rekeySeconds),
      minOf(mine(after), (sa) => sa.rekeySeconds),
      `IKE_SA rekey of ${conn}`,
    );
  }
}

async function assertPromtoolAccepts(text: string): Promise<void> {
  const r = await run("promtool", ["check", "metrics"], { input: text, okExitCodes: [0, 1, 3] }).catch((err: unknown) => {
    throw new Error(`promtool must be installed (Debian package prometheus): ${err instanceof Error ? err.message : String(err)}`);
  });
  assert.equal(r.code, 0, `promtool check metrics:\n${r.stdout}${r.stderr}\n--- input ---\n${text}`);
}

/** charon's pid from its pid file, only if that process really is a charon. */
function charonPid(): number {
  const pid = Number(readFileSync(join(lab.dir, "gw", "run", "charon.pid"), "utf8").trim());
  assert.ok(Number.isInteger(pid) && pid > 1, "charon.pid holds a pid");
  assert.match(readFileSync(`/proc/${pid}/cmdline`, "utf8"), /charon/, `pid ${pid} is a charon`);
  return pid;
}

/**
 * Runs `then` synchronously inside the exporter's logging call for the first line matching `re` (the test
 * exporter's log sink pushes every line into `exporter.logs`), i.e. before the probe goes on.
 */
function onExporterLog(re: RegExp, then: () => void): { fired: Promise<void>; dispose(): void } {
  const logs = exporter.logs;
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  const dispose = () => void Reflect.deleteProperty(logs, "push");
  logs.push = (...lines: string[]) => {
    const n = Array.prototype.push.apply(logs, lines);
    if (lines.some((l) => re.test(l))) {
      dispose();
      then();
      fire();
    }
    return n;
  };
  return { fired, dispose };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** VICI connections inside the gateway namespace towards charon (socat's side of a forwarded session). */
async function viciSessionsToCharon(): Promise<number> {
  const r = await runInNs(lab.gatewayNs, "ss", ["-Htn", "state", "established", "dst", `${lab.mgmtAddress}:${PLAN.viciPort}`]);
  return r.stdout.split("\n").filter((l) => l.trim() !== "").length;
}

async function probeText(module: string, target: string, debug = false): Promise<{ text: string; seconds: number }> {
  const t0 = performance.now();
  const res = await exporter.get(`/probe?module=${module}&target=${target}${debug ? "&debug=true" : ""}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return { text, seconds: (performance.now() - t0) / 1000 };
}

async function assertExporterServes(): Promise<void> {
  assert.equal((await exporter.get("/-/healthy")).status, 200);
  const { text } = await probeText("vici_other", `127.0.0.1:${other.port}`);
  assert.equal(sampleValue(text, "probe_success"), 1, `another module against another gateway still works:\n${text}`);
}

before(async () => {
  // A lab that cannot start throws here, which fails every test of this file.
  lab = await startViciLab();
  other = await startViciServer({
    commands: {
      version: () => ({ response: versionResponse() }),
      stats: () => ({ response: statsResponse(2) }),
      "list-sas": () => ({ response: {}, events: listSaEvents(2), eventName: "list-sa" }),
      "list-conns": () => ({ response: {}, events: listConnEvents(2), eventName: "list-conn" }),
      "get-pools": () => ({ response: getPoolsResponse(1, 2) }),
    },
  });
  exporter = await startTestExporter(MODULES);
});

after(async () => {
  await exporter?.close();
  await other?.close();
  await lab?.stop();
});

describe("a probe of the running gateway", () => {
  let m: Measurement;
  before(async () => {
    m = await measure();
  });

  test("succeeds in well under a second, with the daemon's version, IKE_SA count and uptime", () => {
    assertDaemonAndProbe(m);
  });

  test("reports every conn of --list-conns with the state, kind, children and sessions swanctl shows", () => {
    assertTunnels(m);
  });

  test("keeps the bypass and drop conns out of the tunnels and reports them as shunts", () => {
    assertShunts(m);
  });

  test("reports each certificate's expiry and the CRL's next update as swanctl --list-certs and openssl show them", async () => {
    assertCertificates(m.text, await lab.swanctl(["--list-certs", "--utc"]), lab.pki);
  });

  test("reports alice, bob and carol and the pools' leases as swanctl does", () => {
    assertUsersAndPools(m);
  });

  test("reports per-child counters and timers within the two swanctl readings", () => {
    assertStrongswanDetail(m);
  });

  test("answers an exposition promtool accepts", async () => {
    await assertPromtoolAccepts(m.text);
  });

  test("stays well under a second, probe after probe", async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { text, seconds } = await probeText("vici", lab.target);
      assert.equal(sampleValue(text, "probe_success"), 1, text);
      times.push(seconds);
    }
    assert.ok(Math.max(...times) < 2, `probe times: ${times.join(", ")}s`);
  });
});

describe("when charon dies", () => {
  test("killed mid-scrape, the probe fails at once with a connection closed/reset reason", async () => {
    const pid = charonPid();
    // Freeze charon the moment the exporter has its answer to `stats`, before it asks for get-pools on
    // that connection (list-sas and list-conns run beside it on their own connections): the probe is
    // then certainly mid-scrape (the kernel still takes the next request, nobody answers it).
    const statsDone = new RegExp(`^(?=.*\\btarget=${escape(lab.target)}\\b)(?=.*\\bcommand=stats\\b)(?=.*msg="vici command")`);
    const hook = onExporterLog(statsDone, () => process.kill(pid, "SIGSTOP"));
    let killed = false;
    try {
      const t0 = performance.now();
      const pending = probeText("vici", lab.target, true);
      void pending.catch(() => undefined); // awaited below; not an unhandled rejection should the test fail earlier
      const frozen = await Promise.race([hook.fired.then(() => true), pending.then(() => false)]);
      assert.ok(frozen, `the probe ended before the exporter logged a line matching ${statsDone}:\n${exporter.logs.slice(-10).join("\n")}`);
      assert.ok((await viciSessionsToCharon()) >= 1, "the probe's VICI sessions reach the frozen charon");
      const metrics = await (await exporter.get("/metrics")).text();
      assert.equal(sampleValue(metrics, "vpn_exporter_probes_in_flight"), 1, "the probe is still running");
      const killedAt = performance.now();
      await lab.killCharon();
      killed = true;
      const { text } = await pending;
      const total = (performance.now() - t0) / 1000;
      const afterKill = (performance.now() - killedAt) / 1000;
      assert.equal(sampleValue(text, "probe_success"), 0, text);
      assert.match(text, /debug vici command command=version /, text);
      assert.match(text, /debug vici command command=stats /, text);
      assert.match(text, /debug vici command failed command=(get-pools|list-sas|list-conns) /, text);
      assert.match(text, CLOSED_REASON);
      assert.doesNotMatch(text, /timed out|aborted/, "the probe failed because charon died, not at its deadline");
      assert.doesNotMatch(text, /^vpn_info/m);
      assert.ok(total < MODULE_TIMEOUT_S, `the probe took ${total}s, the module allows ${MODULE_TIMEOUT_S}s`);
      assert.ok(afterKill < 2, `the probe ended ${afterKill}s after charon was killed`);
    } finally {
      hook.dispose();
      // Should the test have failed before the kill, leave no frozen daemon behind for the teardown.
      if (!killed) process.kill(pid, "SIGCONT");
    }
    await assertExporterServes();
  });

  test("while it is down, probes fail fast with the reason and the exporter keeps serving", async () => {
    await assert.rejects(lab.swanctl(["--stats"]), "swanctl cannot reach the dead charon either");
    for (let i = 0; i < 2; i++) {
      const { text, seconds } = await probeText("vici", lab.target, true);
      assert.equal(sampleValue(text, "probe_success"), 0, text);
      assert.match(text, CLOSED_REASON);
      assert.ok(seconds < 2, `a probe of the dead charon took ${seconds}s`);
    }
    const plain = await probeText("vici", lab.target);
    assert.equal(sampleValue(plain.text, "probe_success"), 0);
    await assertPromtoolAccepts(plain.text);
    await assertExporterServes();
    const metrics = await (await exporter.get("/metrics")).text();
    assert.ok((sampleValue(metrics, 'vpn_exporter_probes_total{module="vici",result="failure"}') ?? 0) >= 4, metrics);
  });

  test("after a restart the next probe succeeds and matches swanctl again, without restarting the exporter", { timeout: 60_000 }, async () => {
    await lab.startCharon();
    const m = await measure();
    assertDaemonAndProbe(m);
    assertTunnels(m);
    assertUsersAndPools(m);
    assertStrongswanDetail(m);
    await assertPromtoolAccepts(m.text);
    // A fresh daemon: its uptime is that of the restart, not of the first start.
    assert.ok((sampleValue(m.text, "vpn_uptime_seconds") ?? Infinity) < 60, m.text);
  });
});
