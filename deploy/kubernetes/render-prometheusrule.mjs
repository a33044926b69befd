// Writes prometheusrule.yaml from ../prometheus/rules/*.yml (sorted by name).
// Run from the repository root after editing the rules:
//   node deploy/kubernetes/render-prometheusrule.mjs
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const rulesDir = join(here, '../prometheus/rules');
const groups = readdirSync(rulesDir)
  .filter((f) => f.endsWith('.yml'))
  .sort()
  .flatMap((f) => parse(readFileSync(join(rulesDir, f), 'utf8')).groups);
const doc = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'vpn-exporter', labels: { 'app.kubernetes.io/name': 'vpn-exporter' } },
  spec: { groups },
};
const header = `# Prometheus Operator: the alerting and recording rules of deploy/prometheus/rules/,
# in the same order (rules/*.yml sorted by name). test/unit/deploy-kubernetes.test.ts
# fails when the two differ; regenerate with: node deploy/kubernetes/render-prometheusrule.mjs
# Your Prometheus resource must select it (ruleSelector).
`;
writeFileSync(join(here, 'prometheusrule.yaml'), header + stringify(doc, { lineWidth: 0 }));
