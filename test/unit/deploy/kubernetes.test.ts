// deploy/kubernetes: every manifest parses and names itself, the Deployment is locked
// down and probed on the exporter's health endpoints, the ConfigMap's modules.yaml
// passes the exporter's own loader, and the Operator resources match the rest.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { isAllowed } from '../../../src/config/allow-list.js';
import { parseTarget } from '../../../src/probe/target.js';
import { REPO_ROOT, loadRuleGroups, ruleFiles, validateDeployModules } from '../../support/prometheus.js';

const DIR = join(REPO_ROOT, 'deploy/kubernetes');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

const files = readdirSync(DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const byFile = new Map<string, Manifest[]>();
for (const f of files) {
  const docs = parseAllDocuments(readFileSync(join(DIR, f), 'utf8'));
  byFile.set(
    f,
    docs.map((d) => {
      if (d.errors.length > 0) throw new Error(`${f}: ${d.errors[0]!.message}`);
      return d.toJS() as Manifest;
    }),
  );
}
const all = [...byFile.values()].flat();
function one<T = Record<string, any>>(kind: string): Manifest & T {
  const found = all.filter((m) => m.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0] as Manifest & T;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
const deployment = one<{ spec: any }>('Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const configMap = one<{ data: Record<string, string> }>('ConfigMap');
const secret = one<{ stringData?: Record<string, string>; data?: Record<string, string> }>('Secret');
const service = one<{ spec: any }>('Service');
const kustomization = one<{ namespace?: string; resources: string[] }>('Kustomization');

function mountOf(volumeName: string): { mountPath: string; readOnly?: boolean } {
  const m = container.volumeMounts.find((v: { name: string }) => v.name === volumeName);
  assert.ok(m, `volume ${volumeName} is mounted`);
  return m;
}
function volumeFor(kind: 'configMap' | 'secret', name: string): string {
  const v = pod.volumes.find((x: any) => (kind === 'configMap' ? x.configMap?.name === name : x.secret?.secretName === name));
  assert.ok(v, `a volume from ${kind} ${name}`);
  return v.name;
}

test('every file parses as YAML and every document has apiVersion, kind and metadata.name', () => {
  assert.ok(files.length >= 9, files.join(', '));
  for (const [f, docs] of byFile) {
    assert.ok(docs.length >= 1, f);
    for (const d of docs) {
      assert.match(d.apiVersion ?? '', /^[a-z0-9.]+(\/v\d+(alpha\d+|beta\d+)?)?$|^v1$/, `${f}: apiVersion`);
      assert.match(d.kind ?? '', /^[A-Z][A-Za-z]+$/, `${f}: kind`);
      assert.match(d.metadata?.name ?? '', /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${f}: metadata.name`);
    }
  }
});

test('kustomization.yaml lists every manifest in the directory, and only those', () => {
  const manifests = files.filter((f) => f !== 'kustomization.yaml');
  assert.deepEqual([...kustomization.resources].sort(), manifests);
  assert.ok(kustomization.namespace, 'a namespace for everything');
});

test('the Deployment runs non-root with a read-only root file system and no capabilities', () => {
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.ok(pod.securityContext.runAsUser > 0, 'a non-root uid');
  assert.equal(pod.securityContext.seccompProfile?.type, 'RuntimeDefault');
  assert.equal(pod.automountServiceAccountToken, false);
  const sc = container.securityContext;
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.equal(sc.runAsNonRoot, true);
  assert.notEqual(sc.privileged, true);
  assert.deepEqual(sc.capabilities?.drop, ['ALL']);
  assert.equal(sc.capabilities?.add, undefined);
});

test('the Deployment is probed on /-/healthy and /-/ready and has resources', () => {
  const port = container.ports.find((p: { name: string }) => p.name === 'http');
  assert.equal(port?.containerPort, 9234);
  assert.equal(container.livenessProbe.httpGet.path, '/-/healthy');
  assert.equal(container.readinessProbe.httpGet.path, '/-/ready');
  for (const probe of [container.livenessProbe, container.readinessProbe]) {
    assert.ok(probe.httpGet.port === 'http' || probe.httpGet.port === 9234);
  }
  assert.ok(container.resources.requests.cpu && container.resources.requests.memory, 'requests');
  assert.ok(container.resources.limits.memory, 'a memory limit');
  assert.ok(deployment.spec.replicas >= 2, 'two replicas, so the PodDisruptionBudget can let one go');
});

test('the Deployment reads modules.yaml from the ConfigMap and the SSH files from the Secret', () => {
  const configFlag = (container.args as string[]).find((a) => a.startsWith('--config.file='));
  assert.equal(configFlag, '--config.file=/etc/vpn-exporter/modules.yaml');
  const cfg = mountOf(volumeFor('configMap', configMap.metadata.name));
  assert.equal(cfg.mountPath, '/etc/vpn-exporter');
  assert.ok(configMap.data['modules.yaml'], 'the ConfigMap has modules.yaml');
  const ssh = mountOf(volumeFor('secret', secret.metadata.name));
  assert.equal(ssh.mountPath, '/run/secrets/vpn-exporter');
  assert.equal(ssh.readOnly, true);
});

test("the ConfigMap's modules.yaml validates with the exporter's loader and registered probers", async () => {
  const keys = Object.keys({ ...secret.data, ...secret.stringData });
  assert.ok(keys.includes('known_hosts'), 'the Secret carries known_hosts');
  const { config, referenced } = await validateDeployModules(configMap.data['modules.yaml']!, '/run/secrets/vpn-exporter', keys);
  for (const name of referenced) assert.ok(keys.includes(name), `modules.yaml refers to ${name}, which the Secret lacks`);
  const probers = new Set([...config.modules.values()].map((m) => m.prober.name));
  for (const p of ['strongswan-vici-tcp', 'openvpn-ssh']) assert.ok(probers.has(p), `a module for ${p}`);
  for (const m of config.modules.values()) {
    if (m.prober.name.endsWith('-ssh')) assert.ok(m.allowList, `${m.name} limits its targets (allowed_targets)`);
  }
});

test('the Service and the PodDisruptionBudget select the Deployment pods', () => {
  const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
  const selects = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => podLabels[k] === v);
  assert.ok(selects(service.spec.selector));
  assert.deepEqual(
    service.spec.ports.map((p: any) => [p.port, p.targetPort]),
    [[9234, 'http']],
  );
  const pdb = one<{ spec: any }>('PodDisruptionBudget');
  assert.ok(selects(pdb.spec.selector.matchLabels));
  assert.ok(pdb.spec.minAvailable < deployment.spec.replicas);
});

test('the ScrapeConfig probes through the Service with the multi-target relabel pattern', async () => {
  const sc = one<{ spec: any }>('ScrapeConfig');
  assert.equal(sc.apiVersion, 'monitoring.coreos.com/v1alpha1');
  assert.equal(sc.spec.metricsPath, '/probe');
  const rel = sc.spec.relabelings as { sourceLabels?: string[]; targetLabel: string; replacement?: string }[];
  const has = (src: string, dst: string) => rel.some((r) => r.sourceLabels?.join(';') === src && r.targetLabel === dst);
  assert.ok(has('module', '__param_module'));
  assert.ok(has('__address__', '__param_target'));
  assert.ok(has('__param_target', 'instance'));
  const address = rel.find((r) => r.targetLabel === '__address__')?.replacement;
  assert.equal(address, `${service.metadata.name}.${kustomization.namespace}.svc:${service.spec.ports[0].port}`);
  assert.match(rel.find((r) => r.targetLabel === 'job')?.replacement ?? '', /^vpn-.+/, 'a job name the alerts match');

  // Every target's module exists and lets that target in.
  const keys = Object.keys({ ...secret.data, ...secret.stringData });
  const { config } = await validateDeployModules(configMap.data['modules.yaml']!, '/run/secrets/vpn-exporter', keys);
  for (const group of sc.spec.staticConfigs as { targets: string[]; labels: { module: string } }[]) {
    const mod = config.modules.get(group.labels.module);
    assert.ok(mod, `module ${group.labels.module} is in the ConfigMap`);
    for (const raw of group.targets) {
      const target = parseTarget(raw, mod.prober.defaultPort);
      assert.notEqual(typeof target, 'string', raw);
      assert.equal(isAllowed(mod.allowList, target.host, target.port), true, `${raw} for ${mod.name}`);
    }
  }
});

test("the PodMonitor scrapes the pods' /metrics as job vpn-exporter", () => {
  const pm = one<{ spec: any }>('PodMonitor');
  const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
  for (const [k, v] of Object.entries(pm.spec.selector.matchLabels as Record<string, string>)) assert.equal(podLabels[k], v);
  const ep = pm.spec.podMetricsEndpoints[0];
  assert.equal(ep.port, 'http');
  assert.equal(ep.path, '/metrics');
  assert.ok(ep.relabelings.some((r: any) => r.targetLabel === 'job' && r.replacement === 'vpn-exporter'));
});

test('the PrometheusRule carries exactly the rules of deploy/prometheus/rules', () => {
  const pr = one<{ spec: { groups: unknown[] } }>('PrometheusRule');
  const expected = ruleFiles().flatMap((f) => loadRuleGroups(f));
  assert.deepEqual(pr.spec.groups, expected, 'run: node deploy/kubernetes/render-prometheusrule.mjs');
});
