import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  find,
  hasFile,
  loadDashboard,
  loadObjects,
  podTemplate,
  promtool,
  promtoolChecksRun,
  ROOT,
  runbookAnchors,
  selects,
  specOf,
  type PrometheusRuleSpec,
  type ServiceMonitorSpec,
  type ServiceSpec,
} from '../support/k8s-manifests';
import { grafanaQueryNames, metricNames } from '../support/promql-names';

// Monitoring (k8s/service-monitor.yaml, k8s/prometheus-rules.yaml, ops/grafana/), checked
// statically. What only the running app can judge (probe and scrape paths, the metric names
// alerts and dashboard use against what a ROLE=all process serves) is in
// test/e2e/shipping-metrics.e2e-spec.ts.

const objects = loadObjects();
const secretTemplate = find(objects, 'Secret', 'whatsapp-secrets');
const rulesSpec = find(objects, 'PrometheusRule', 'whatsapp-backend-alerts')
  .spec as PrometheusRuleSpec;
const dashboard = loadDashboard();

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
    'event-subscriptions',
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
        'WhatsAppEventDeliveriesFailing',
        'WhatsAppEventsFeedLagging',
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
        'Event deliveries by result',
        'Oldest undelivered event / feed lag',
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
