import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

// Reads k8s/ and the Grafana dashboard for the shipping tests (test/static/shipping-*.static-spec.ts
// and test/e2e/shipping-metrics.e2e-spec.ts). Only the fields the tests look at are typed;
// everything is optional because a broken manifest is what they catch.

export const ROOT = join(__dirname, '..', '..');
export const K8S_DIR = join(ROOT, 'k8s');

export interface Metadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface K8sObject {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  spec?: unknown;
  data?: Record<string, unknown>;
  stringData?: Record<string, unknown>;
}

export interface Probe {
  httpGet?: { path?: string; port?: string | number };
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

export interface Container {
  name: string;
  image?: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    fsGroup?: number;
    seccompProfile?: { type?: string };
  };
  terminationGracePeriodSeconds?: number;
  automountServiceAccountToken?: boolean;
  restartPolicy?: string;
  containers: Container[];
  volumes?: { name: string; emptyDir?: object }[];
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: PodSpec;
}

export interface ServiceSpec {
  selector: Record<string, string>;
  ports: { name: string; port: number; targetPort: string | number }[];
}

export interface IngressSpec {
  ingressClassName: string;
  tls: { hosts: string[]; secretName: string }[];
  rules: {
    host: string;
    http: {
      paths: {
        path: string;
        pathType: string;
        backend: { service: { name: string; port: { name: string } } };
      }[];
    };
  }[];
}

export interface PdbSpec {
  maxUnavailable?: number;
  minAvailable?: number;
  selector: { matchLabels: Record<string, string> };
}

interface NetworkPolicyRule {
  ports?: { protocol: string; port: number }[];
  from?: { namespaceSelector?: { matchLabels?: Record<string, string> } }[];
}

export interface NetworkPolicySpec {
  podSelector: object;
  policyTypes: string[];
  ingress?: NetworkPolicyRule[];
  egress?: NetworkPolicyRule[];
}

export interface ServiceMonitorSpec {
  selector: { matchLabels: Record<string, string> };
  endpoints: {
    port: string;
    path: string;
    basicAuth: { username: { name: string; key: string }; password: { name: string; key: string } };
  }[];
}

export interface AlertRule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PrometheusRuleSpec {
  groups: { rules: AlertRule[] }[];
}

/** ops/grafana/whatsapp-backend.json: the variables and the panels' queries. */
export interface Dashboard {
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
  panels: {
    type: string;
    title: string;
    datasource?: { uid: string };
    targets?: { expr: string; datasource: { uid: string } }[];
  }[];
}

/** Every .yaml/.yml file under a directory, recursively. */
export function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

/** Parses every document of a YAML file; throws naming the file on the first syntax error. */
export function parseYamlFile(path: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'));
  if (!Array.isArray(docs)) throw new Error(`${path}: not a YAML stream`);
  return docs.map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0].message}`);
    return doc.toJS() as unknown;
  });
}

/** The Kubernetes objects of k8s/ (kustomization.yaml aside), each with its file. */
export function loadObjects(): K8sObject[] {
  return yamlFiles(K8S_DIR)
    .filter((path) => !path.endsWith('kustomization.yaml'))
    .flatMap((path) =>
      parseYamlFile(path)
        .filter((doc) => doc !== null)
        .map((doc) => ({ ...(doc as Omit<K8sObject, 'file'>), file: relative(ROOT, path) })),
    );
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} under k8s/`);
  return found;
}

/** An object's spec, typed as the caller expects it. */
export function specOf<T>(objects: K8sObject[], kind: string, name: string): T {
  return find(objects, kind, name).spec as T;
}

/** The pod template of a Deployment or Job. */
export function podTemplate(object: K8sObject): PodTemplate {
  return (object.spec as { template: PodTemplate }).template;
}

/** A ConfigMap's or Secret's values, which Kubernetes wants as strings (`PORT: 5000` fails). */
export function stringMap(values: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values ?? {}).map(([key, value]) => {
      if (typeof value !== 'string') throw new Error(`${key}: ${typeof value}, not a string`);
      return [key, value];
    }),
  );
}

/**
 * A container's environment as Kubernetes builds it: envFrom first, then env in order, with
 * `$(NAME)` expanded from what is defined before (unknown references stay as written).
 */
export function containerEnv(
  container: Container,
  configMaps: Record<string, Record<string, string>>,
  secrets: Record<string, Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, configMaps[source.configMapRef.name] ?? {});
    if (source.secretRef) Object.assign(env, secrets[source.secretRef.name] ?? {});
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    env[variable.name] = ref
      ? (secrets[ref.name]?.[ref.key] ?? '')
      : (variable.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) =>
          name in env ? env[name] : whole,
        );
  }
  return env;
}

const INSTALL_PROMTOOL =
  "install Debian's `prometheus` package (apt-get install --no-install-recommends prometheus; " +
  '.ci/run does it), which provides it';

/**
 * Whether the promtool checks run: always in CI (`.ci/run` installs promtool and sets
 * REQUIRE_PROMTOOL=1, so a missing tool fails there), and elsewhere only where promtool is
 * installed: `npm ci && npm test` on a fresh machine skips just these two checks, saying so.
 */
export function promtoolChecksRun(): boolean {
  if (process.env.REQUIRE_PROMTOOL === '1') return true;
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error === undefined) return true;
  process.stderr.write(
    `promtool is not installed: its two checks (alert rules, /metrics format) are skipped; ${INSTALL_PROMTOOL}\n`,
  );
  return false;
}

/** Runs promtool, or fails saying how to install it. */
export function promtool(args: string[], input?: string): { status: number; output: string } {
  const run = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 30_000 });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(`promtool is not installed: ${INSTALL_PROMTOOL}`);
  }
  if (run.error) throw run.error;
  return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
}

/** A CPU or memory quantity in base units (cores, bytes). */
export function quantity(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|k|M|G)?$/.exec(value);
  if (!match) throw new Error(`not a quantity: ${value}`);
  const units: Record<string, number> = {
    m: 1e-3,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    k: 1e3,
    M: 1e6,
    G: 1e9,
  };
  return Number(match[1]) * (match[2] ? units[match[2]] : 1);
}

/** Whether every label of a selector is on an object. */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** GitHub's heading anchors of a Markdown file, and explicit `id`/`name` anchors. */
export function runbookAnchors(markdown: string): string[] {
  const headings = [...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
    m[1]
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-'),
  );
  const explicit = [...markdown.matchAll(/\b(?:id|name)="([^"]+)"/g)].map((m) => m[1]);
  return [...headings, ...explicit];
}

export const hasFile = (path: string): boolean => existsSync(join(ROOT, path));

/** The Grafana dashboard shipped with the manifests. */
export function loadDashboard(): Dashboard {
  return JSON.parse(
    readFileSync(join(ROOT, 'ops/grafana/whatsapp-backend.json'), 'utf8'),
  ) as Dashboard;
}
