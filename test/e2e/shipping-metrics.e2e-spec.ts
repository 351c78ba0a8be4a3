import { randomBytes } from 'node:crypto';
import { spawnApp, waitForListening, type AppProcess } from '../support/app-process';
import {
  find,
  loadDashboard,
  loadObjects,
  podTemplate,
  promtool,
  promtoolChecksRun,
  specOf,
  type IngressSpec,
  type PrometheusRuleSpec,
  type ServiceMonitorSpec,
} from '../support/k8s-manifests';
import { exportedSeries, grafanaQueryNames, metricNames } from '../support/promql-names';
import { deleteRedisKeys, REDIS_URL, testDatabaseUrl } from '../support/test-env';

// Every manifest rule that only the running app can judge: probe and scrape paths, and the
// metric names alerts and dashboard use, against what a real ROLE=all process serves. The
// static checks of the monitoring (alerts, scrape config, dashboard) are in
// test/static/shipping-metrics.static-spec.ts.

const objects = loadObjects();
/** Where Prometheus scrapes (the ServiceMonitor's path). */
const metricsPath = specOf<ServiceMonitorSpec>(objects, 'ServiceMonitor', 'whatsapp-backend')
  .endpoints[0].path;
const rulesSpec = find(objects, 'PrometheusRule', 'whatsapp-backend-alerts')
  .spec as PrometheusRuleSpec;
const dashboard = loadDashboard();
/** prom-client's default gauges that promtool flags for their `_total` suffix: not ours. */
const PROM_CLIENT_LINT = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

// promtool's checks: required in CI, skipped (with a note) where the tool is not installed.
const itPromtool = promtoolChecksRun() ? it : it.skip;

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
