import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { spawnApp, waitForListening, type AppProcess } from '../support/app-process';
import {
  find,
  hasFile,
  loadObjects,
  podTemplate,
  promtool,
  promtoolChecksRun,
  ROOT,
  runbookAnchors,
  selects,
  specOf,
  type IngressSpec,
  type ServiceMonitorSpec,
  type ServiceSpec,
} from '../support/k8s-manifests';
import { exportedSeries, grafanaQueryNames, metricNames } from '../support/promql-names';
import { deleteRedisKeys, REDIS_URL, testDatabaseUrl } from '../support/test-env';

// Monitoring (k8s/service-monitor.yaml, k8s/prometheus-rules.yaml, ops/grafana/) and every
// manifest rule that only the running app can judge: probe and scrape paths, and the metric
// names alerts and dashboard use, against what a real ROLE=all process serves.

const objects = loadObjects();
const secretTemplate = find(objects, 'Secret', 'whatsapp-secrets');
/** Where Prometheus scrapes (the ServiceMonitor's path). */
const metricsPath = specOf<ServiceMonitorSpec>(objects, 'ServiceMonitor', 'whatsapp-backend')
  .endpoints[0].path;
type AlertRule = {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
};
const rulesSpec = find(objects, 'PrometheusRule', 'whatsapp-backend-alerts').spec as {
  groups: { rules: AlertRule[] }[];
};
type Dashboard = {
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
  panels: {
    type: string;
    title: string;
    datasource?: { uid: string };
    targets?: { expr: string; datasource: { uid: string } }[];
  }[];
};
const dashboard = JSON.parse(
  readFileSync(join(ROOT, 'ops/grafana/whatsapp-backend.json'), 'utf8'),
) as Dashboard;
/** prom-client's default gauges that promtool flags for their `_total` suffix: not ours. */
const PROM_CLIENT_LINT = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

// promtool's checks: required in CI, skipped (with a note) where the tool is not installed.
const itPromtool = promtoolChecksRun() ? it : it.skip;

describe('shipping: monitoring', () => {
  const RUNBOOK_ANCHORS = [
    'webhooks-stop-arriving',
    'messages-not-delivering',
    'app-crashes',
    'rollback',
    'secret-rotation',
    'restore-from-backup',
    'dependency-down',
    'queue-backlog',
    'stuck-messages',
    'high-error-rate',
  ];
  const rules = rulesSpec.groups.flatMap((group) => group.rules);

  it('should alert on errors, dependencies, webhooks, the queue, stuck messages and delivery', () => {
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'WhatsAppHighErrorRate',
        'WhatsAppPostgresDown',
        'WhatsAppRedisDown',
        'WhatsAppWebhookBadSignatures',
        'WhatsAppWebhookServerErrors',
        'WhatsAppQueueBacklogGrowing',
        'WhatsAppStuckMessages',
        'WhatsAppDeliveryRateLow',
      ]),
    );
    const runbook = hasFile('docs/runbook.md')
      ? readFileSync(join(ROOT, 'docs/runbook.md'), 'utf8')
      : undefined;
    for (const rule of rules) {
      expect(rule.labels.severity).toMatch(/^(critical|warning)$/);
      expect(rule.annotations).toMatchObject({
        summary: expect.any(String),
        description: expect.any(String),
      });
      const anchor = /\/docs\/runbook\.md#([a-z0-9-]+)$/.exec(rule.annotations.runbook_url)?.[1];
      expect(RUNBOOK_ANCHORS).toContain(anchor);
      // Once the runbook exists, its sections must be where the alerts point.
      if (runbook !== undefined) expect(runbookAnchors(runbook)).toContain(anchor);
    }
  });

  itPromtool('should pass promtool check rules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipping-rules-'));
    try {
      writeFileSync(join(dir, 'rules.yaml'), stringify(rulesSpec));
      const result = promtool(['check', 'rules', join(dir, 'rules.yaml')]);
      expect(result).toEqual({
        status: 0,
        output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should scrape /metrics of api and worker pods with the basic auth the pods require', () => {
    const monitor = specOf<ServiceMonitorSpec>(objects, 'ServiceMonitor', 'whatsapp-backend');
    const services = objects.filter(
      (o) => o.kind === 'Service' && selects(monitor.selector.matchLabels, o.metadata.labels ?? {}),
    );
    const roles = services.map((s) => podRole((s.spec as ServiceSpec).selector));
    expect(roles.sort()).toEqual(['api', 'worker']);
    for (const service of services)
      expect((service.spec as ServiceSpec).ports.map((p) => p.name)).toContain(
        monitor.endpoints[0].port,
      );
    const { username, password } = monitor.endpoints[0].basicAuth;
    const template = Object.keys(secretTemplate.stringData ?? {});
    expect([username.name, password.name]).toEqual(['whatsapp-secrets', 'whatsapp-secrets']);
    expect(template).toEqual(expect.arrayContaining([username.key, password.key]));
  });

  it('should have a Grafana dashboard on a ${DS_PROMETHEUS} data source with the panels ops need', () => {
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource' }),
    );
    const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
    for (const panel of panels) {
      expect(panel.datasource?.uid).toBe('${DS_PROMETHEUS}');
      for (const target of panel.targets ?? [])
        expect(target.datasource.uid).toBe('${DS_PROMETHEUS}');
    }
    expect(panels.map((panel) => panel.title)).toEqual(
      expect.arrayContaining([
        'Messages by status',
        'Delivery and read rate (1 h)',
        'Latency between stages',
        'Send attempts by result and error code',
        'Webhook results',
        'Queue depth',
        'Stuck messages',
        'HTTP p99 latency by route',
        'HTTP error rate',
      ]),
    );
  });

  function podRole(selector: Record<string, string>): string | undefined {
    return ['whatsapp-api', 'whatsapp-worker']
      .map((name) => podTemplate(find(objects, 'Deployment', name)).metadata?.labels ?? {})
      .find((labels) => selects(selector, labels))?.['app.kubernetes.io/component'];
  }
});

describe('shipping: PromQL names', () => {
  it('should find metric names and skip functions, keywords, labels, strings and durations', () => {
    expect(
      metricNames(
        'sum by (namespace, pod) (rate(a_count{job="x", route!~"/m|b{1}"}[5m])) / on (le) ' +
          'group_left (foo) max(b_total offset 5m) > 0.05 and absent(c) unless topk(5, d) * 1e3',
      ).sort(),
    ).toEqual(['a_count', 'b_total', 'c', 'd']);
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le) (rate(e_bucket{ns="$namespace"}[$__rate_interval])))' +
          ' + deriv(f[15m:1m]) - sum(g) without (h) + sum without(i) (j) + ${var} + inf',
      ).sort(),
    ).toEqual(['e_bucket', 'f', 'g', 'j']);
    expect(grafanaQueryNames('label_values(k{a="b"}, namespace)')).toEqual(['k']);
  });
});

describe('shipping: against a running app (ROLE=all)', () => {
  const prefix = `tship${randomBytes(4).toString('hex')}`;
  const auth = { user: 'prometheus', password: randomBytes(12).toString('hex') };
  let app: AppProcess;
  let base: string;
  let scrape: string;

  beforeAll(async () => {
    app = spawnApp({
      NODE_ENV: 'test',
      ROLE: 'all',
      PORT: '0',
      DATABASE_URL: testDatabaseUrl(),
      REDIS_URL,
      REDIS_PREFIX: prefix,
      SIMULATOR_PORT: '0',
      LOG_LEVEL: 'info',
      METRICS_AUTH: `${auth.user}:${auth.password}`,
    });
    base = `http://127.0.0.1:${await waitForListening(app)}`;
    const res = await fetch(`${base}${metricsPath}`, { headers: basicAuth() });
    expect(res.status).toBe(200);
    scrape = await res.text();
  });

  afterAll(async () => {
    if (app?.child.exitCode === null) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
    await deleteRedisKeys(prefix);
  });

  const basicAuth = (): Record<string, string> => ({
    authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`,
  });

  it('should answer 200 on every probe path of every Deployment, and 404 on a wrong one', async () => {
    const paths = ['whatsapp-api', 'whatsapp-worker'].flatMap((name) =>
      podTemplate(find(objects, 'Deployment', name)).spec.containers.flatMap((container) =>
        [container.livenessProbe, container.readinessProbe, container.startupProbe].map(
          (probe) => probe?.httpGet?.path ?? 'missing',
        ),
      ),
    );
    expect(paths).toHaveLength(6);
    for (const path of paths)
      expect(`${path} ${(await fetch(`${base}${path}`)).status}`).toBe(`${path} 200`);
    // The check can fail: a path the app does not serve is not 200.
    expect((await fetch(`${base}/api/v1/health/livez`)).status).toBe(404);
  });

  it('should serve /metrics at the root, outside the only prefix the Ingress exposes', async () => {
    expect(scrape).toMatch(/^# TYPE whatsapp_dependency_up gauge$/m);
    // Without the ServiceMonitor's credentials: refused (production requires METRICS_AUTH).
    expect((await fetch(`${base}${metricsPath}`)).status).toBe(401);
    const ingress = specOf<IngressSpec>(objects, 'Ingress', 'whatsapp-api');
    for (const path of ingress.rules.flatMap((rule) => rule.http.paths.map((p) => p.path)))
      expect(`${path} exposes ${metricsPath}: ${metricsPath.startsWith(path)}`).toMatch(/false$/);
  });

  it('should use in every alert and dashboard query only metric names the app exports', () => {
    const exported = exportedSeries(scrape);
    const queries = [
      ...rulesSpec.groups.flatMap((group) => group.rules).map((rule) => [rule.alert, rule.expr]),
      ...dashboard.panels.flatMap((panel) =>
        (panel.targets ?? []).map((target) => [panel.title, target.expr]),
      ),
    ];
    const variables = dashboard.templating.list.filter((variable) => variable.type === 'query');
    const unknown = [
      ...queries.flatMap(([where, expr]) => metricNames(expr).map((name) => `${where}: ${name}`)),
      ...variables.flatMap((variable) => {
        const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
        return grafanaQueryNames(query ?? '').map((name) => `$${variable.name}: ${name}`);
      }),
    ].filter((entry) => !exported.has(entry.split(': ')[1]));
    expect(queries.length).toBeGreaterThan(20);
    expect(unknown).toEqual([]);
  });

  itPromtool(
    'should pass promtool check metrics, but for prom-client`s own nodejs_active_*_total',
    () => {
      const { output } = promtool(['check', 'metrics'], scrape);
      const problems = output
        .split('\n')
        .filter((line) => line.trim() !== '')
        .filter((line) => !PROM_CLIENT_LINT.includes(line.split(' ')[0]));
      expect(problems).toEqual([]);
    },
  );
});
