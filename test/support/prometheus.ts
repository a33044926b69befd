/**
 * Prometheus for tests: promtool, the metric names the exporter can expose (read
 * from its source, so nothing here drifts from the code), PromQL metric-name
 * extraction, and a real `prometheus` server started on loopback with a
 * configuration derived from deploy/prometheus/.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEPLOY_PROMETHEUS = join(REPO_ROOT, 'deploy/prometheus');

// ---------------------------------------------------------------------------
// promtool

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCommand(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolvePromise) => {
    execFile(cmd, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export function promtool(args: string[], cwd = DEPLOY_PROMETHEUS): Promise<CommandResult> {
  // `promtool test rules` over every rule test takes ~10 s on an idle machine and 30-60 s at a
  // load average of 12-24: the kill timer is not an assertion, so it leaves ample room.
  return runCommand('promtool', args, { cwd, timeoutMs: 300_000 });
}

// ---------------------------------------------------------------------------
// Metric names

/** Where the exposed families are defined: the core family, probe and self metrics, and each vendor's metrics.ts. */
const EXPOSITION_DIR = 'src/exposition';
const VENDORS_DIR = 'src/vendors';
const METRIC_LITERAL = /['"]((?:vpn|probe|strongswan|openvpn|paloalto|wireguard)_[a-z0-9_]*[a-z0-9])['"]/g;
const HISTOGRAM = /new\s+Histogram(?:<[^>]*>)?\(\s*\{\s*name:\s*['"]([a-z0-9_]+)['"]/g;

function sourceFiles(dir = join(REPO_ROOT, EXPOSITION_DIR)): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(abs));
    else if (entry.name.endsWith('.ts')) files.push(abs);
  }
  return files.sort();
}

/**
 * Every series name the exporter can expose on /probe and /metrics (histograms
 * with their _bucket, _sum and _count), from the metric-name string literals in
 * every .ts file under src/exposition (the core family, the probe metrics probe_success and
 * probe_duration_seconds, self-metrics.ts) and every src/vendors/<vendor>/metrics.ts.
 */
export function exportedMetricNames(): Set<string> {
  const names = new Set<string>();
  const vendorFamilies = sourceFiles(join(REPO_ROOT, VENDORS_DIR)).filter((f) => f.endsWith('/metrics.ts'));
  for (const file of [...sourceFiles(), ...vendorFamilies]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(METRIC_LITERAL)) names.add(m[1]!);
    for (const m of text.matchAll(HISTOGRAM)) {
      names.delete(m[1]!);
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(m[1]! + suffix);
    }
  }
  return names;
}

/** Series Prometheus adds to every scrape by itself. */
export const PROMETHEUS_SCRAPE_SERIES: ReadonlySet<string> = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
]);

const PROMQL_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'inf',
  'nan',
  'atan2',
]);

/**
 * The metric names a PromQL expression selects: identifiers that are neither
 * functions, keywords, label names in matchers or grouping clauses, nor parts of
 * strings, durations or numbers. Grafana variables ($job, ${x}) are dropped.
 */
export function metricNamesInExpr(expr: string): Set<string> {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:]|\s*\()/g)) {
    const word = m[1]!;
    if (PROMQL_KEYWORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return names;
}

// ---------------------------------------------------------------------------
// Rule files

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

export function ruleFiles(): string[] {
  const dir = join(DEPLOY_PROMETHEUS, 'rules');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}

export function loadRuleGroups(file: string): RuleGroup[] {
  return (parse(readFileSync(file, 'utf8')) as { groups: RuleGroup[] }).groups;
}

// ---------------------------------------------------------------------------
// hashmod, as Prometheus computes it

/** The shard Prometheus' `hashmod` relabel action gives a value: MD5, last 8 bytes big-endian, modulo. */
export function hashmod(value: string, modulus: number): number {
  const digest = createHash('md5').update(value).digest();
  return Number(digest.readBigUInt64BE(8) % BigInt(modulus));
}

// ---------------------------------------------------------------------------
// A test configuration derived from deploy/prometheus/prometheus.yml

export interface FileSdGroup {
  targets: string[];
  labels?: Record<string, string>;
}

interface RelabelConfig {
  source_labels?: string[];
  target_label?: string;
  replacement?: string;
  regex?: string;
  action?: string;
  modulus?: number;
}

interface ScrapeConfig {
  job_name: string;
  scrape_interval?: string;
  scrape_timeout?: string;
  metrics_path?: string;
  static_configs?: FileSdGroup[];
  file_sd_configs?: { files: string[] }[];
  relabel_configs?: RelabelConfig[];
}

export interface PrometheusConfigFile {
  global?: Record<string, string>;
  rule_files?: string[];
  alerting?: unknown;
  scrape_configs: ScrapeConfig[];
}

export function loadDeployConfig(): PrometheusConfigFile {
  return parse(readFileSync(join(DEPLOY_PROMETHEUS, 'prometheus.yml'), 'utf8')) as PrometheusConfigFile;
}

export interface TestSetup {
  /** Every exporter address in deploy/prometheus/prometheus.yml, mapped to a test exporter's host:port. */
  exporters: Record<string, string>;
  /** file_sd files to write, by path relative to the config (they must match the deploy globs). */
  targets: Record<string, FileSdGroup[]>;
  scrapeInterval: string;
  scrapeTimeout: string;
  evaluationInterval: string;
  /** Replaces every alert's `for:` so tests need not wait minutes. */
  alertFor: string;
}

export interface GeneratedConfig {
  /** prometheus.yml text. */
  config: string;
  /** Other files by path relative to the config: targets and rules. */
  files: Record<string, string>;
}

/**
 * The deploy configuration with only what a test must change: intervals, the
 * exporter addresses, the targets written to the file_sd files the deploy jobs
 * read, and alert `for:` durations. Relabel rules, jobs and rule expressions are
 * used as they are.
 */
export function testPrometheusConfig(setup: TestSetup): GeneratedConfig {
  const cfg = loadDeployConfig();
  const mapAddress = (addr: string): string => {
    const mapped = setup.exporters[addr];
    if (!mapped) throw new Error(`deploy/prometheus/prometheus.yml names exporter ${addr}; map it in the test setup`);
    return mapped;
  };
  cfg.global = {
    scrape_interval: setup.scrapeInterval,
    scrape_timeout: setup.scrapeTimeout,
    evaluation_interval: setup.evaluationInterval,
  };
  delete cfg.alerting;
  for (const job of cfg.scrape_configs) {
    job.scrape_interval = setup.scrapeInterval;
    job.scrape_timeout = setup.scrapeTimeout;
    for (const group of job.static_configs ?? []) group.targets = group.targets.map(mapAddress);
    for (const rule of job.relabel_configs ?? []) {
      if (rule.target_label === '__address__' && rule.replacement !== undefined) rule.replacement = mapAddress(rule.replacement);
    }
  }
  const files: Record<string, string> = {};
  const globs = cfg.scrape_configs.flatMap((j) => (j.file_sd_configs ?? []).flatMap((f) => f.files));
  for (const [path, groups] of Object.entries(setup.targets)) {
    if (!globs.some((g) => globToRegExp(g).test(path))) throw new Error(`${path} matches no file_sd glob of the deploy config`);
    files[path] = stringify(groups);
  }
  for (const file of ruleFiles()) {
    const groups = loadRuleGroups(file);
    for (const g of groups) for (const r of g.rules) if (r.alert && r.for) r.for = setup.alertFor;
    files[`rules/${file.split('/').pop()}`] = stringify({ groups });
  }
  return { config: stringify(cfg), files };
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    '^' +
      glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]') +
      '$',
  );
}

// ---------------------------------------------------------------------------
// A running Prometheus

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  value: string;
}

export interface ActiveTarget {
  labels: Record<string, string>;
  discoveredLabels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

export interface RuleState {
  name: string;
  type: 'alerting' | 'recording';
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
}

export interface PrometheusServer {
  url: string;
  dir: string;
  query(expr: string): Promise<Sample[]>;
  alerts(): Promise<PrometheusAlert[]>;
  targets(): Promise<ActiveTarget[]>;
  rules(): Promise<RuleState[]>;
  /** Polls `probe` as waitFor does, with Prometheus's log in the failure message. */
  waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  /** What Prometheus logged (warnings and errors), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** Starts `prometheus` on 127.0.0.1 with the given configuration; resolves once /-/ready answers. */
export async function startPrometheus(generated: GeneratedConfig): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vpnx-prometheus-'));
  for (const [rel, text] of Object.entries(generated.files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, generated.config);

  let child: ChildProcess | undefined;
  let url = '';
  let log = '';
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    log = '';
    const c = spawn(
      'prometheus',
      [`--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    c.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.length > 200_000) log = log.slice(-100_000);
    });
    let exited = false;
    c.once('exit', () => (exited = true));
    c.once('error', (err) => {
      exited = true;
      log += `cannot run prometheus: ${err.message}\n`;
    });
    const outcome = await waitFor('prometheus to be ready', async () => (exited ? 'exited' : (await fetch(`${url}/-/ready`)).ok && 'ready'), {
      timeoutMs: 30_000,
      intervalMs: 100,
    }).catch((err: unknown) => {
      c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${String(err)}\n${log}`);
    });
    if (outcome === 'exited') {
      // A port taken between probing and binding: try another.
      if (/address already in use/.test(log)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`prometheus exited at start:\n${log}`);
    }
    child = c;
  }
  if (!child) throw new Error(`prometheus could not bind a port:\n${log}`);
  const proc = child;

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(url + path);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
    return body.data;
  };

  return {
    url,
    dir,
    async query(expr) {
      const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async alerts() {
      return (await api<{ alerts: PrometheusAlert[] }>('/api/v1/alerts')).alerts;
    },
    async targets() {
      return (await api<{ activeTargets: ActiveTarget[] }>('/api/v1/targets?state=active')).activeTargets;
    },
    async rules() {
      const data = await api<{ groups: { rules: RuleState[] }[] }>('/api/v1/rules');
      return data.groups.flatMap((g) => g.rules);
    },
    waitFor: (what, probe, timeoutMs = 30_000) => waitFor(what, probe, { timeoutMs, describe: () => log.slice(-4000) }),
    log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise<void>((r) => proc.once('exit', () => r()));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------
// The deploy examples' modules.yaml files, validated by the exporter's own loader

/**
 * Validates a deploy example's modules.yaml with src/config/load.ts and every
 * registered prober. Paths under `mountDir` (where systemd credentials or a
 * Kubernetes Secret appear at run time) are moved to a temporary directory that
 * holds one dummy file per name in `provided`; returns the names the file refers
 * to there, so a test can check them against what the unit or Secret provides.
 */
export async function validateDeployModules(
  text: string,
  mountDir: string,
  provided: readonly string[],
): Promise<{ config: import('../../src/config/config.js').Config; referenced: Set<string> }> {
  const { parseConfig } = await import('../../src/config/modules.js');
  const { PROBERS } = await import('../../src/probers.js');
  const prefix = mountDir.endsWith('/') ? mountDir : `${mountDir}/`;
  const referenced = new Set<string>();
  for (const m of text.matchAll(new RegExp(`${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([A-Za-z0-9._-]+)`, 'g'))) referenced.add(m[1]!);
  const dir = mkdtempSync(join(tmpdir(), 'vpnx-deploy-modules-'));
  try {
    for (const name of provided) writeFileSync(join(dir, name), `dummy ${name}\n`, { mode: 0o600 });
    const config = parseConfig('modules.yaml', text.split(prefix).join(`${dir}/`), PROBERS);
    return { config, referenced };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
