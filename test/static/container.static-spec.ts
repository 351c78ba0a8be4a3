import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { PATH_METADATA } from '@nestjs/common/constants';
import { parse } from 'yaml';
import type { AppConfig } from '../../src/config/app-config';
import { loadConfig } from '../../src/config/load-config';
import { HealthController } from '../../src/modules/health/health.controller';

// No Docker engine here: the Dockerfile and compose file are checked statically, and the parts
// that run code (the entry script, the health checks) are run with this machine's sh and node.
const ROOT = join(__dirname, '..', '..');
const ENTRYPOINT = join(ROOT, 'scripts', 'docker-entrypoint.sh');
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) pending += `${line.slice(0, -1)} `;
    else [lines[lines.length], pending] = [pending + line, ''];
  }
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const [image = '', , name] = args.split(/\s+/).filter((word) => !word.startsWith('--'));
      stages.push({ image, name, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

const all = (stage: Stage, keyword: string): string[] =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const last = (stage: Stage, keyword: string): string => all(stage, keyword).at(-1) ?? '';

/** COPY's flags, sources and destination (the shell form this Dockerfile uses). */
function copies(stage: Stage): { from?: string; sources: string[]; dest: string }[] {
  return all(stage, 'COPY').map((args) => {
    const words = args.split(/\s+/);
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((w) => !w.startsWith('--'));
    return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' };
  });
}

/** .dockerignore semantics: a path is out if the last pattern matching it or a parent says so. */
function dockerIgnored(patterns: string[], path: string): boolean {
  const toRegExp = (glob: string): RegExp =>
    new RegExp(
      `^${glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '\uE000')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/\uE000/g, '(?:.*/)?')}$`,
    );
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const regExp = toRegExp(negated ? pattern.slice(1) : pattern);
    if (prefixes.some((prefix) => regExp.test(prefix))) ignored = !negated;
  }
  return ignored;
}

/** The live probe's path, read from the controller's route metadata rather than copied. */
function liveRoute(): string {
  const live = Object.getOwnPropertyDescriptor(HealthController.prototype, 'live')?.value as object;
  const base = Reflect.getMetadata(PATH_METADATA, HealthController) as string;
  return `/${base}/${Reflect.getMetadata(PATH_METADATA, live) as string}`;
}

/** The node command and its arguments after the last `&&` of an npm script. */
function npmScriptNode(name: string): string[] {
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
  const words = (scripts[name] ?? '').split('&&').at(-1)?.trim().split(/\s+/) ?? [];
  if (words[0] !== 'node') throw new Error(`npm script ${name} does not end with a node command`);
  return words.slice(1);
}

function run(command: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  const [file = '', ...args] = command;
  return new Promise((resolve) => {
    spawn(file, args, { env, stdio: 'ignore' }).once('exit', (code) => resolve(code));
  });
}

/** Runs a probe command against a local server that answers `status` on the live route. */
async function probe(command: string[], status: number): Promise<number | null> {
  const server = createServer((req, res) => {
    res.writeHead(req.url === liveRoute() ? status : 404).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await run(command, { ...process.env, PORT: String(port) });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const stages = parseDockerfile(read('Dockerfile'));
const [build, runtime] = [stages[0], stages.at(-1)] as [Stage, Stage];
const defaults = loadConfig({});

describe('the Dockerfile', () => {
  it('should build in one stage and run from another, both on one pinned Node LTS image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const names = stages.map((stage) => stage.name);
    for (const { image } of stages.filter((stage) => !names.includes(stage.image))) {
      // An exact version and a Debian variant: never `latest`, a bare major or a moving tag.
      expect(image).toMatch(/^node:\d+\.\d+\.\d+-[a-z]+-slim(?:@sha256:[0-9a-f]{64})?$/);
      expect(image).toBe(build.image); // native add-ons built in one stage run in the other
    }
    const major = Number(/^node:(\d+)\./.exec(runtime.image)?.[1]);
    expect(major % 2 === 0 && major >= 22).toBe(true); // an LTS line, past Node 20's end of life
    expect(read('Dockerfile')).toContain(`Node ${major} LTS`);
  });

  it('should install every dependency, compile and prune to production ones in the build stage', () => {
    const runs = all(build, 'RUN').join('\n');
    expect(runs).toMatch(/\bnpm ci\b/);
    expect(runs).toMatch(/\bnpm run build\b/);
    expect(runs).toMatch(/\bnpm prune --omit=dev\b/);
    const sources = copies(build).flatMap((c) => c.sources);
    expect(new Set(sources)).toEqual(
      new Set([
        'package.json',
        'package-lock.json',
        'tsconfig.json',
        'tsconfig.build.json',
        'src',
        'migrations',
      ]),
    );
  });

  it('should run as the non-root node user with NODE_ENV=production on the port the app defaults to', () => {
    expect(last(runtime, 'USER')).toBe('node');
    expect(all(runtime, 'ENV').join(' ')).toMatch(/(?:^|\s)NODE_ENV=production(?:\s|$)/);
    expect(all(runtime, 'EXPOSE')).toEqual([String(defaults.port)]);
  });

  it('should ship dist/ and production node_modules only, never src/, tests or dev dependencies', () => {
    const buildDir = last(build, 'WORKDIR');
    for (const copy of copies(runtime)) {
      if (copy.from === undefined) {
        expect(copy.sources).toEqual(['scripts/docker-entrypoint.sh']);
      } else {
        expect(copy.from).toBe(build.name);
        expect(copy.sources.map((s) => posix.relative(buildDir, s))).toEqual([
          expect.stringMatching(/^(?:dist|node_modules|package\.json)$/),
        ]);
      }
    }
    expect(all(runtime, 'RUN').join('\n')).not.toMatch(/\bnpm (?:ci|install|i)\b/);
  });

  it('should run tini from Debian as PID 1 in front of the entry script, with no default arguments', () => {
    expect(all(runtime, 'RUN').join('\n')).toMatch(
      /apt-get install (?:-y )?--no-install-recommends (?:-y )?tini\b/,
    );
    const entrypoint = JSON.parse(last(runtime, 'ENTRYPOINT')) as string[];
    const script = copies(runtime).find((c) => c.sources[0] === 'scripts/docker-entrypoint.sh');
    const workdir = last(runtime, 'WORKDIR');
    expect(entrypoint).toEqual(['/usr/bin/tini', '--', posix.join(workdir, script?.dest ?? '')]);
    // The script finds dist/ in its parent folder: that must be where dist/ was copied.
    expect(posix.dirname(posix.dirname(entrypoint[2] ?? ''))).toBe(workdir);
    expect(JSON.parse(last(runtime, 'CMD'))).toEqual([]);
  });

  it('should probe the real live route and fail when it does not answer 2xx', async () => {
    const [, options, form] =
      /^((?:--\S+\s+)*)CMD\s+(\[.*\])$/.exec(last(runtime, 'HEALTHCHECK')) ?? [];
    expect(options).toMatch(/--interval=\S+/);
    const command = JSON.parse(form ?? '[]') as string[];
    expect(command.join(' ')).toContain(liveRoute());
    expect(await probe(command, 200)).toBe(0);
    expect(await probe(command, 503)).toBe(1);
  });

  it('should keep .env, node_modules and everything the build does not read out of the context', () => {
    const patterns = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const path of [
      '.env',
      '.env.production',
      'src/.env',
      'node_modules/x/index.js',
      '.git/HEAD',
      'dist/src/main.js',
      'coverage/lcov.info',
      'bench/results/run.md',
      'test/e2e/a.ts',
    ]) {
      expect({ path, ignored: dockerIgnored(patterns, path) }).toEqual({ path, ignored: true });
    }
    const needed = stages.flatMap((s) =>
      copies(s)
        .filter((c) => !c.from)
        .flatMap((c) => c.sources),
    );
    for (const path of [...needed, 'src/main.ts', 'migrations/x.ts']) {
      expect({ path, ignored: dockerIgnored(patterns, path) }).toEqual({ path, ignored: false });
    }
  });
});

describe('scripts/docker-entrypoint.sh', () => {
  // What each command must run, from package.json's own scripts (start, migration:run, simulator).
  const commands: [string[], string[]][] = [
    [[], npmScriptNode('start')],
    [['migrate'], npmScriptNode('migration:run')],
    [['simulator'], npmScriptNode('simulator')],
  ];
  let app: string;

  // A stand-in app: each dist/ entry point prints which file ran, its arguments and its pid.
  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'entrypoint-'));
    for (const [, [file = '']] of commands) {
      mkdirSync(join(app, dirname(file)), { recursive: true });
      writeFileSync(
        join(app, file),
        `console.log(JSON.stringify({ file: ${JSON.stringify(file)}, ` +
          'args: process.argv.slice(2), pid: process.pid }));',
      );
    }
    mkdirSync(join(app, 'scripts'));
    copyFileSync(ENTRYPOINT, join(app, 'scripts', 'docker-entrypoint.sh'));
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  function entry(args: string[], env: NodeJS.ProcessEnv, script = ENTRYPOINT) {
    return spawnSync('sh', [script, ...args], { cwd: tmpdir(), env, encoding: 'utf8' });
  }

  it('should be valid POSIX sh', () => {
    expect(spawnSync('sh', ['-n', ENTRYPOINT]).status).toBe(0);
  });

  it.each(commands)(
    'should map %j to the built entry point, exec-ed so signals reach node',
    (args, [file, ...rest]) => {
      expect(
        existsSync(join(ROOT, (file ?? '').replace(/^dist\//, '').replace(/\.js$/, '.ts'))),
      ).toBe(true);
      const { APP_DIR: _, ...env } = process.env;
      // From the script's own parent folder (the image's /app), and from APP_DIR.
      for (const result of [
        entry(args, env, join(app, 'scripts', 'docker-entrypoint.sh')),
        entry(args, { ...env, APP_DIR: app }),
      ]) {
        expect(result.status).toBe(0);
        // The same pid: node replaced the shell, so tini's SIGTERM goes to node itself.
        expect(JSON.parse(result.stdout)).toEqual({ file, args: rest, pid: result.pid });
      }
    },
  );

  it('should run anything else as given, arguments and exit code intact', () => {
    expect(entry(['node', '-e', 'process.exit(7)'], process.env).status).toBe(7);
    const echo = entry(
      ['node', '-e', 'console.log(JSON.stringify(process.argv.slice(1)))', 'a b', ''],
      process.env,
    );
    expect(JSON.parse(echo.stdout)).toEqual(['a b', '']);
  });

  it('should refuse arguments after migrate instead of ignoring them', () => {
    const result = entry(['migrate', 'revert'], { ...process.env, APP_DIR: app });
    expect(result.status).toBe(64);
    expect(result.stdout).toBe('');
  });
});

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  network_mode?: string;
  ports?: string[];
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };
  const { services } = compose;
  const service = (name: string): ComposeService => services[name] ?? {};
  const config = (name: string): AppConfig => {
    const env = Object.entries(service(name).environment ?? {});
    return loadConfig(Object.fromEntries(env.map(([key, value]) => [key, String(value)])));
  };

  it('should define the six services, the app ones all from one image built here', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'migrate', 'postgres', 'redis', 'simulator', 'worker'].sort(),
    );
    const appImages = ['migrate', 'api', 'worker', 'simulator'].map((name) => service(name));
    for (const app of appImages)
      expect({ build: app.build, image: app.image }).toEqual({
        build: '.',
        image: appImages[0]?.image,
      });
    expect(appImages[0]?.image).toMatch(/^[a-z0-9-]+:(?!latest$)[\w.-]+$/);
    for (const name of ['postgres', 'redis']) {
      expect(service(name).image).toMatch(
        /^[a-z0-9./-]+:\d+\.\d+(?:\.\d+)?-[a-z0-9.]+(?:@sha256:[0-9a-f]{64})?$/,
      );
    }
  });

  it('should order startup by conditions: migrations after a healthy postgres, the app after them', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (svc.depends_on === undefined) continue;
      expect({ name, list: Array.isArray(svc.depends_on) }).toEqual({ name, list: false });
      for (const dependency of Object.values(
        svc.depends_on as Record<string, { condition?: string }>,
      )) {
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(
          dependency.condition,
        );
      }
    }
    expect(service('migrate').depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const name of ['api', 'worker']) {
      expect(service(name).depends_on).toMatchObject({
        migrate: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
      });
    }
  });

  it('should health-check postgres, redis, the api and every service waited on as healthy', async () => {
    const test = (name: string): string[] => [service(name).healthcheck?.test ?? []].flat();
    expect(test('postgres').join(' ')).toMatch(/pg_isready/);
    expect(test('redis')).toEqual(['CMD', 'redis-cli', 'ping']);
    const awaited = Object.values(services).flatMap((svc) =>
      Object.entries(svc.depends_on ?? {}).filter(([, d]) => d.condition === 'service_healthy'),
    );
    for (const [name] of awaited) expect(test(name)[0]).toMatch(/^CMD/);
    const [cmd, ...api] = test('api');
    expect(cmd).toBe('CMD');
    expect(await probe(api, 200)).toBe(0);
    expect(await probe(api, 503)).toBe(1);
  });

  it('should give each service the command and environment the app accepts outside production', () => {
    expect(service('migrate').command).toEqual(['migrate']);
    expect(service('simulator').command).toEqual(['simulator']);
    expect([service('api').command, service('worker').command]).toEqual([undefined, undefined]);
    const [api, worker, simulator] = [config('api'), config('worker'), config('simulator')];
    expect(config('migrate').isProduction).toBe(false);
    expect([api, worker, simulator].map((c) => [c.role, c.isProduction])).toEqual([
      ['api', false],
      ['worker', false],
      ['all', false], // the simulator refuses production
    ]);
    // No secret in the file: every credential is the development default, shared by all three.
    for (const name of ['TWILIO_AUTH_TOKEN', 'JWT_SECRET', 'ADMIN_PASSWORD']) {
      expect(Object.keys(service('api').environment ?? {})).not.toContain(name);
    }
    expect(new Set([api, worker, simulator].map((c) => c.twilio.authToken)).size).toBe(1);
  });

  it('should wire the simulator in as Twilio and have it call the api back with valid signatures', () => {
    const [api, worker, simulator] = [config('api'), config('worker'), config('simulator')];
    // Every service on its own address: the simulator listens beyond its container.
    expect([service('worker').network_mode, service('simulator').network_mode]).toEqual([
      undefined,
      undefined,
    ]);
    expect(simulator.simulator.host).toBe('0.0.0.0');
    const simulatorUrl = `http://simulator:${simulator.simulator.port}`;
    expect([api.twilio.apiBaseUrl, worker.twilio.apiBaseUrl]).toEqual([simulatorUrl, simulatorUrl]);
    expect(simulator.simulator.deliverTo).toBe(`http://api:${api.port}`);
    expect(new Set([api.publicBaseUrl, worker.publicBaseUrl, simulator.publicBaseUrl]).size).toBe(
      1,
    );
    expect(service('api').ports).toContain(`127.0.0.1:${api.port}:${api.port}`);
    const db = new URL(api.database.url ?? '');
    const pg = service('postgres').environment ?? {};
    expect([db.hostname, db.username, db.password, db.pathname]).toEqual([
      'postgres',
      pg.POSTGRES_USER,
      pg.POSTGRES_PASSWORD,
      `/${pg.POSTGRES_DB}`,
    ]);
    expect(new URL(api.redis.url ?? '').hostname).toBe('redis');
  });
});
