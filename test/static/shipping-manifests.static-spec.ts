import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigError } from '../../src/config/env-reader';
import { loadConfig } from '../../src/config/load-config';
import {
  containerEnv,
  find,
  hasFile,
  K8S_DIR,
  loadObjects,
  parseYamlFile,
  podTemplate,
  quantity,
  ROOT,
  selects,
  specOf,
  stringMap,
  yamlFiles,
  type Container,
  type IngressSpec,
  type NetworkPolicySpec,
  type PdbSpec,
  type ServiceSpec,
} from '../support/k8s-manifests';

// Static checks of the workloads, their config and their network in k8s/; monitoring and the
// dashboard are in shipping-metrics.static-spec.ts, and the checks only a running app can judge
// in test/e2e/shipping-metrics.e2e-spec.ts. Each rule is here because breaking it breaks a
// deployment.

const objects = loadObjects();
const WORKLOADS = [
  ['Deployment', 'whatsapp-api'],
  ['Deployment', 'whatsapp-worker'],
  ['Job', 'whatsapp-migrate'],
] as const;
/** Names other docs and the runbook refer to. */
const FIXED_NAMES = [
  ['Namespace', 'whatsapp-backend'], ['ConfigMap', 'whatsapp-config'], ['Secret', 'whatsapp-secrets'],
  ['Service', 'whatsapp-api'], ['Ingress', 'whatsapp-api'], ['ServiceMonitor', 'whatsapp-backend'],
  ['PrometheusRule', 'whatsapp-backend-alerts'], ['HorizontalPodAutoscaler', 'whatsapp-api'],
  ['HorizontalPodAutoscaler', 'whatsapp-worker'], ['PodDisruptionBudget', 'whatsapp-api'],
  ['PodDisruptionBudget', 'whatsapp-worker'],
]; // prettier-ignore
const configMap = stringMap(find(objects, 'ConfigMap', 'whatsapp-config').data);
const secretTemplate = find(objects, 'Secret', 'whatsapp-secrets');
/** What load-config.ts treats as secrets (refused when equal to a development default), and
 * the other values that carry credentials. None may sit in the ConfigMap. */
const SECRETS = [
  'DATABASE_URL', 'REDIS_URL', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN',
  'TWILIO_AUTH_TOKEN_PREVIOUS', 'JWT_SECRET', 'ADMIN_PASSWORD', 'METRICS_AUTH', 'SENTRY_DSN',
]; // prettier-ignore
/** .env.example variables production deliberately leaves unset (configmap.yaml says why). */
const NOT_IN_PRODUCTION = [
  'SIMULATOR_PORT', 'SIMULATOR_HOST', 'SIMULATOR_DELIVER_TO', 'WEBHOOK_URL', 'SIGNATURE_REPORT_UNTIL',
  'TWILIO_MESSAGING_SERVICE_SID',
]; // prettier-ignore
/** Fake secret values for booting the production config (not development defaults). */
const FILLED_SECRETS: Record<string, string> = {
  DATABASE_URL: 'postgres://app:s3cret@postgres.example.internal:5432/whatsapp',
  REDIS_URL: 'rediss://:s3cret@redis.example.internal:6379',
  TWILIO_ACCOUNT_SID: `AC${'ab'.repeat(16)}`,
  TWILIO_AUTH_TOKEN: 'k8s-test-token-0123456789',
  TWILIO_AUTH_TOKEN_PREVIOUS: '',
  JWT_SECRET: 'k8s-test-jwt-secret-0123456789abcdef0123',
  ADMIN_EMAIL: '',
  ADMIN_PASSWORD: '',
  METRICS_USER: 'prometheus',
  METRICS_PASSWORD: 'k8s-test-metrics-password',
  SENTRY_DSN: '',
};

const containersOf = (kind: string, name: string): Container[] =>
  podTemplate(find(objects, kind, name)).spec.containers;

/** The drain bound the pods get: the ConfigMap's SHUTDOWN_TIMEOUT_MS, else the app's default. */
const shutdownSeconds = (): number =>
  Number(configMap.SHUTDOWN_TIMEOUT_MS ?? loadConfig({}).shutdownTimeoutMs) / 1000;

describe('shipping: k8s manifests', () => {
  it('should parse every YAML file under k8s/ (and docker-compose.yml when present)', () => {
    const compose = ['docker-compose.yml', 'docker-compose.yaml', 'compose.yaml'].filter(hasFile);
    const files = [...yamlFiles(K8S_DIR), ...compose.map((file) => join(ROOT, file))];
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) expect(parseYamlFile(file).length).toBeGreaterThan(0);
    for (const object of objects) {
      expect(`${object.file}: ${typeof object.apiVersion} ${typeof object.kind}`).toBe(
        `${object.file}: string string`,
      );
      expect(object.metadata.name).toMatch(/^[a-z0-9-]+$/);
    }
  });

  it('should list every manifest in kustomization.yaml except the Secret template', () => {
    const kustomization = parse(readFileSync(join(K8S_DIR, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
      images?: { name: string; newTag?: string }[];
    };
    const files = yamlFiles(K8S_DIR).map((path) => path.slice(K8S_DIR.length + 1));
    const expected = files.filter((file) => !/^(kustomization|secret\.template)\.yaml$/.test(file));
    expect([...kustomization.resources].sort()).toEqual(expected.sort());
    // Applying the template would blank the real Secret.
    expect(kustomization.resources).not.toContain('secret.template.yaml');
    for (const image of kustomization.images ?? [])
      expect(image.newTag).toMatch(/^(?!latest$)\S+$/);
  });

  it('should have the fixed names the docs and the runbook use, all in one namespace', () => {
    for (const [kind, name] of [...WORKLOADS, ...FIXED_NAMES])
      expect(find(objects, kind, name).kind).toBe(kind);
    for (const object of objects.filter((o) => o.kind !== 'Namespace'))
      expect(`${object.kind}/${object.metadata.name} in ${object.metadata.namespace}`).toBe(
        `${object.kind}/${object.metadata.name} in whatsapp-backend`,
      );
    for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy'))
      expect(policy.metadata.name).toMatch(/^whatsapp-/);
  });

  it.each(WORKLOADS)(
    'should run %s %s locked down: non-root, read-only, no privileges',
    (kind, name) => {
      const { spec } = podTemplate(find(objects, kind, name));
      expect(spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        fsGroup: expect.any(Number),
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const container of spec.containers) {
        expect(container.securityContext).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        // A read-only root needs a writable /tmp, from an emptyDir.
        const tmp = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
        expect(spec.volumes?.find((volume) => volume.name === tmp?.name)?.emptyDir).toBeDefined();
      }
    },
  );

  it.each(WORKLOADS)('should give %s %s a pinned image and bounded resources', (kind, name) => {
    for (const container of containersOf(kind, name)) {
      // A tag, not `latest` (a digest would do too).
      expect(container.image).toMatch(/^[^:@\s]+(:(?!latest$)[\w][\w.-]*|@sha256:[0-9a-f]{64})$/);
      for (const resource of ['cpu', 'memory']) {
        const request = quantity(container.resources?.requests?.[resource] ?? 'missing');
        const limit = quantity(container.resources?.limits?.[resource] ?? 'missing');
        expect(request).toBeGreaterThan(0);
        expect(limit).toBeGreaterThanOrEqual(request);
      }
    }
  });

  it.each([
    ['whatsapp-api', 'api', 3],
    ['whatsapp-worker', 'worker', 2],
  ])(
    'should run Deployment %s with ROLE=%s, probes, a rolling update and a grace above the drain',
    (name, role, replicas) => {
      const deployment = find(objects, 'Deployment', name);
      const spec = deployment.spec as { replicas: number; strategy: object };
      expect(spec.replicas).toBe(replicas);
      expect(spec.strategy).toEqual({
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
      });
      const pod = podTemplate(deployment).spec;
      const [container] = pod.containers;
      expect(container.env?.find((variable) => variable.name === 'ROLE')?.value).toBe(role);
      expect(container.ports).toEqual([
        { name: 'http', containerPort: Number(configMap.PORT), protocol: 'TCP' },
      ]);
      for (const probe of [
        container.livenessProbe,
        container.readinessProbe,
        container.startupProbe,
      ])
        expect(probe?.httpGet).toMatchObject({ path: expect.stringMatching(/^\//), port: 'http' });
      // The kubelet kills at the grace: it must outlast the preStop sleep plus the app's drain.
      const preStop = container.lifecycle?.preStop;
      const preStopSeconds = preStop?.sleep?.seconds ?? Number(preStop?.exec?.command.at(-1) ?? 0);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds + shutdownSeconds());
    },
  );

  it('should run the migration Job once, with the migrate command, cleaned up after', () => {
    const job = find(objects, 'Job', 'whatsapp-migrate');
    expect(job.spec).toMatchObject({
      backoffLimit: expect.any(Number),
      ttlSecondsAfterFinished: expect.any(Number),
    });
    const { spec } = podTemplate(job);
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.containers.map((container) => container.args)).toEqual([['migrate']]);
  });

  it('should keep secrets out of the ConfigMap and every value out of the Secret template', () => {
    for (const name of SECRETS) expect(Object.keys(configMap)).not.toContain(name);
    const values = { ...secretTemplate.data, ...secretTemplate.stringData };
    for (const [key, value] of Object.entries(values))
      expect(`${key}=${JSON.stringify(value ?? '')}`).toBe(`${key}=""`);
    expect(Object.keys(values)).toEqual(
      expect.arrayContaining(SECRETS.filter((name) => name !== 'METRICS_AUTH')),
    );
  });

  it('should set every .env.example variable production needs, and only known ones', () => {
    const example = [
      ...readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm),
    ].map((m) => m[1]);
    const podEnv = containersOf('Deployment', 'whatsapp-api').flatMap((c) =>
      (c.env ?? []).map((v) => v.name),
    );
    const secretKeys = Object.keys(FILLED_SECRETS);
    const covered = new Set([
      ...Object.keys(configMap),
      ...secretKeys,
      ...podEnv,
      ...NOT_IN_PRODUCTION,
    ]);
    expect(example.filter((name) => !covered.has(name))).toEqual([]);
    expect(Object.keys(configMap).filter((name) => !example.includes(name))).toEqual([]);
    expect(Object.keys({ ...secretTemplate.stringData, ...secretTemplate.data }).sort()).toEqual(
      secretKeys.sort(),
    );
  });

  it.each(WORKLOADS)(
    'should boot %s %s with the production config once the Secret is filled',
    (kind, name) => {
      for (const container of containersOf(kind, name)) {
        const env = (secret: Record<string, string>): Record<string, string> =>
          containerEnv(container, { 'whatsapp-config': configMap }, { 'whatsapp-secrets': secret });
        const config = loadConfig(env(FILLED_SECRETS));
        expect(config).toMatchObject({
          isProduction: true,
          port: 5000,
          metricsAuth: { user: 'prometheus', password: FILLED_SECRETS.METRICS_PASSWORD },
        });
        expect(config.publicBaseUrl).toMatch(/^https:\/\//);
        // The template as it is must not boot: production refuses the empty credentials.
        expect(() => loadConfig(env(stringMap(secretTemplate.stringData)))).toThrow(ConfigError);
      }
    },
  );
});

describe('shipping: Service, Ingress, autoscaling, network policies', () => {
  const podLabels = (name: string): Record<string, string> =>
    podTemplate(find(objects, 'Deployment', name)).metadata?.labels ?? {};

  it('should expose the api on port 80 to the container port named http', () => {
    const spec = specOf<ServiceSpec>(objects, 'Service', 'whatsapp-api');
    expect(spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(selects(spec.selector, podLabels('whatsapp-api'))).toBe(true);
    expect(selects(spec.selector, podLabels('whatsapp-worker'))).toBe(false);
  });

  it('should route only /api/v1 publicly, over TLS, on the host Twilio signs (PUBLIC_BASE_URL)', () => {
    const ingress = find(objects, 'Ingress', 'whatsapp-api');
    const spec = ingress.spec as IngressSpec;
    expect(spec.ingressClassName).toBe('nginx');
    expect(ingress.metadata.annotations?.['cert-manager.io/cluster-issuer']).toEqual(
      expect.any(String),
    );
    const publicUrl = new URL(configMap.PUBLIC_BASE_URL);
    expect(publicUrl.protocol).toBe('https:');
    for (const rule of spec.rules) {
      expect(rule.host).toBe(publicUrl.host);
      expect(spec.tls.some((tls) => tls.hosts.includes(rule.host) && tls.secretName)).toBe(true);
      for (const path of rule.http.paths) {
        // Not `/` and nothing that would reach /metrics (served at the root) or /docs.
        expect(`${path.pathType} ${path.path}`).toMatch(/^(Prefix|Exact) \/api\/v1(\/\S*)?$/);
        expect(path.backend.service).toEqual({ name: 'whatsapp-api', port: { name: 'http' } });
      }
    }
  });

  it('should scale both roles on CPU and keep one pod of each through disruptions', () => {
    for (const name of ['whatsapp-api', 'whatsapp-worker']) {
      const hpa = find(objects, 'HorizontalPodAutoscaler', name);
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      expect(hpa.spec).toMatchObject({
        scaleTargetRef: { kind: 'Deployment', name },
        metrics: [{ type: 'Resource', resource: { name: 'cpu' } }],
      });
      const pdb = specOf<PdbSpec>(objects, 'PodDisruptionBudget', name);
      expect(pdb.maxUnavailable ?? pdb.minAvailable).toBe(1);
      expect(selects(pdb.selector.matchLabels, podLabels(name))).toBe(true);
    }
  });

  it('should deny by default and open only DNS, PostgreSQL, Redis, HTTPS, the scrapers and ACME', () => {
    const policies = objects
      .filter((o) => o.kind === 'NetworkPolicy')
      .map((o) => o.spec as NetworkPolicySpec);
    expect(policies).toContainEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const ports = (rules: 'ingress' | 'egress', of = policies): string[] =>
      of.flatMap((p) =>
        (p[rules] ?? []).flatMap((r) =>
          (r.ports ?? []).map((port) => `${port.protocol}/${port.port}`),
        ),
      );
    // Redis on 6379, or 6380 (TLS on most managed services).
    expect(ports('egress').sort()).toEqual([
      'TCP/443',
      'TCP/53',
      'TCP/5432',
      'TCP/6379',
      'TCP/6380',
      'UDP/53',
    ]);
    expect(ports('ingress').sort()).toEqual(['TCP/5000', 'TCP/5000', 'TCP/8089']);
    const sources = policies.flatMap((p) =>
      (p.ingress ?? []).flatMap((r) =>
        (r.from ?? []).map(
          (peer) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'],
        ),
      ),
    );
    expect(sources.sort()).toEqual(['ingress-nginx', 'ingress-nginx', 'monitoring']);
    // 8089 is cert-manager's HTTP-01 solver, and opens only its pods, never the app's.
    const solver = { matchLabels: { 'acme.cert-manager.io/http01-solver': 'true' } };
    const acme = policies.filter((p) => ports('ingress', [p]).includes('TCP/8089'));
    expect(acme.map((p) => p.podSelector)).toEqual([solver]);
    expect(ports('ingress', acme)).toEqual(['TCP/8089']);
  });
});
