/**
 * Every operations artefact through the ecosystem's own checker, and each checker shown to
 * refuse a broken artefact:
 *  - promtool: `check metrics` on a live /metrics, `test rules` (every alert fires and stays
 *    quiet, prometheus/tests/alerts.test.yml), `check config` on every scrape config;
 *  - kubectl kustomize renders both overlays, and every object is validated against the
 *    Kubernetes schemas (kubernetes-models; the PodMonitor against the Prometheus Operator's);
 *  - npm-groovy-lint on the Jenkinsfile; docker-compose config and haproxy -c on the local
 *    stack; the Dockerfile against the rules that matter (pinned base, non-root, no secrets,
 *    healthcheck, a compiled entry point).
 * A missing tool fails the test with the package that provides it (.ci/run installs them all).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { loadConfig } from '../../config.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
/** JSON with // comment lines (tsconfig files). */
const readJsonc = (rel: string) => JSON.parse(read(rel).replace(/^\s*\/\/.*$/gm, ''));
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'bank-ops-'));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

/** Where each tool comes from, for the message when it is missing. */
const PACKAGES: Record<string, string> = {
  promtool: 'the Debian package prometheus',
  kubectl: 'kubectl (Debian: kubernetes-client)',
  'docker-compose': 'the Debian package docker-compose',
  haproxy: 'the Debian package haproxy',
  java: 'a Java runtime (Debian: default-jre-headless), for npm-groovy-lint',
};

function requireTool(name: string) {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error(`${name} is not installed: install ${PACKAGES[name] ?? name} (bash .ci/run does)`);
}

function run(
  cmd: string,
  args: string[],
  opts: { input?: string; cwd?: string; timeout?: number } = {},
): SpawnSyncReturns<string> & { text: string } {
  requireTool(cmd.endsWith('npm-groovy-lint') ? 'java' : cmd);
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    input: opts.input,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: opts.timeout ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return Object.assign(r, { text: `${r.stdout}${r.stderr}` });
}

function tmpFile(rel: string, text: string): string {
  const file = path.join(TMP, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

// ---------------------------------------------------------------------------------------

describe('promtool', () => {
  let srv: TestServer;
  const token = 'test-metrics-token-0123456789';
  beforeAll(async () => {
    srv = await startTestServer({ env: { METRICS_TOKEN: token } });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('check metrics: a live /metrics passes the linter, and a broken exposition does not', async () => {
    // Some traffic first, so histograms and labelled counters have series.
    await fetch(`${srv.url}/healthz`);
    await fetch(`${srv.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'nobody', password: 'wrong-password' }),
    });
    const res = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('bank_http_request_duration_seconds_bucket');
    expect(text).toContain('bank_logins_total');
    const ok = run('promtool', ['check', 'metrics'], { input: text });
    expect(ok.text.trim()).toBe('');
    expect(ok.status).toBe(0);

    const broken = run('promtool', ['check', 'metrics'], {
      input: `${text}# HELP bank_broken_total A gauge named like a counter\n# TYPE bank_broken_total gauge\nbank_broken_total 1\n`,
    });
    expect(broken.status).not.toBe(0);
    expect(broken.text).toContain('bank_broken_total');
  });

  it('check rules: the alert rules are valid', () => {
    const r = run('promtool', ['check', 'rules', 'prometheus/alerts.yml']);
    expect(r.text).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('test rules: every alert fires on series that should trigger it and stays quiet on series that should not', () => {
    const tests = parseYaml(read('prometheus/tests/alerts.test.yml')) as {
      tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
    };
    const alerts = (parseYaml(read('prometheus/alerts.yml')) as { groups: Array<{ rules: Array<{ alert?: string }> }> }).groups
      .flatMap((g) => g.rules.map((r) => r.alert))
      .filter(Boolean);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    expect(alerts.length).toBeGreaterThanOrEqual(20);
    expect(
      alerts.filter((a) => !cases.some((c) => c.alertname === a && c.exp_alerts.length > 0)),
      'alerts without a firing case',
    ).toEqual([]);
    expect(
      alerts.filter((a) => !cases.some((c) => c.alertname === a && c.exp_alerts.length === 0)),
      'alerts without a quiet case',
    ).toEqual([]);

    const r = run('promtool', ['test', 'rules', 'prometheus/tests/alerts.test.yml']);
    expect(r.text).toContain('SUCCESS');
    expect(r.status).toBe(0);

    // The same tests against a rule whose threshold was broken: promtool says so.
    fs.mkdirSync(path.join(TMP, 'rules/tests'), { recursive: true });
    tmpFile(
      'rules/alerts.yml',
      read('prometheus/alerts.yml').replace('max(bank_outbox_backlog) > 1000', 'max(bank_outbox_backlog) > 100000'),
    );
    tmpFile('rules/tests/alerts.test.yml', read('prometheus/tests/alerts.test.yml'));
    const broken = run('promtool', ['test', 'rules', path.join(TMP, 'rules/tests/alerts.test.yml')]);
    expect(broken.status).not.toBe(0);
    expect(broken.text).toContain('BankOutboxBacklogHigh');
  });

  it('check config: every scrape config (Kubernetes discovery replaced, see below) is valid', () => {
    // Debian's promtool is built without Kubernetes service discovery and refuses
    // `kubernetes_sd_configs`; the copy checked here has that block replaced by a static
    // target, everything else (relabelling, authorization, rule files) as it is. The token
    // files are mounted at run time; the copies point at a file that exists.
    const tokenFile = tmpFile('prom/metrics-token', 'token');
    tmpFile('prom/alerts.yml', read('prometheus/alerts.yml'));
    const variants = {
      'prometheus.yml': read('prometheus/prometheus.yml').replace(
        /^( +)kubernetes_sd_configs:\n\1 +- role: pod\n/m,
        '$1static_configs:\n$1  - targets: ["10.0.0.1:3000"]\n',
      ),
      'prometheus.compose.yml': read('prometheus/prometheus.compose.yml'),
      'prometheus.local.yml': read('prometheus/prometheus.local.yml'),
    };
    expect(variants['prometheus.yml']).not.toContain('kubernetes_sd_configs');
    for (const [name, text] of Object.entries(variants)) {
      const file = tmpFile(`prom/${name}`, text.replace(/credentials_file: \S+/g, `credentials_file: ${tokenFile}`));
      const r = run('promtool', ['check', 'config', file]);
      expect(r.status, `${name}: ${r.text}`).toBe(0);
    }
    // Both the Kubernetes and the compose scrape send the bearer token.
    expect(read('prometheus/prometheus.yml')).toMatch(
      /authorization:\s*\n\s*type: Bearer\s*\n\s*credentials_file: \/etc\/prometheus\/secrets\/bank-metrics\/METRICS_TOKEN/,
    );
    expect(read('prometheus/prometheus.compose.yml')).toMatch(/credentials_file: \/prometheus\/metrics-token/);

    const broken = run('promtool', [
      'check',
      'config',
      tmpFile('prom/broken.yml', variants['prometheus.local.yml'].replace('scrape_interval: 15s', 'scrape_interval: often')),
    ]);
    expect(broken.status).not.toBe(0);
  });
});

// ---------------------------------------------------------------------------------------

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

function render(overlay: string): K8sObject[] {
  const r = run('kubectl', ['kustomize', `manifests/overlays/${overlay}`]);
  expect(r.status, r.text).toBe(0);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJSON() as K8sObject)
    .filter(Boolean);
}

/** The kubernetes-models class for an object (core and apps groups, plus the Prometheus Operator's). */
async function modelOf(o: K8sObject): Promise<new (data: unknown) => { validate(): void }> {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const spec =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}/${o.kind}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}`;
  const mod = (await import(spec)) as Record<string, new (data: unknown) => { validate(): void }>;
  return mod[o.kind];
}

async function schemaProblems(objects: K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of objects) {
    try {
      const Model = await modelOf(o);
      new Model(o).validate();
    } catch (err) {
      problems.push(`${o.kind}/${o.metadata?.name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return problems;
}

const CONFIG_KEYS = [...read('config.ts').matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]);

describe('kubernetes manifests, rendered by kubectl kustomize', () => {
  const overlays: Record<string, K8sObject[]> = {};
  beforeAll(() => {
    for (const o of ['dev', 'prod']) overlays[o] = render(o);
  });
  const find = (objs: K8sObject[], kind: string, name?: string) =>
    objs.filter((o) => o.kind === kind && (!name || o.metadata.name === name || o.metadata.name.startsWith(`${name}-`)));
  const bankContainers = (objs: K8sObject[]) =>
    find(objs, 'Deployment').flatMap((d) =>
      [...(d.spec.template.spec.initContainers ?? []), ...d.spec.template.spec.containers].map((c: any) => ({
        deployment: d.metadata.name,
        ...c,
      })),
    );

  it('every object of both overlays is valid against the Kubernetes schemas', async () => {
    for (const [name, objs] of Object.entries(overlays)) {
      expect(objs.length, name).toBeGreaterThan(10);
      expect(await schemaProblems(objs), name).toEqual([]);
    }
  });

  it('the schema check refuses a broken object', async () => {
    const web = structuredClone(find(overlays.prod, 'Deployment', 'bank-web')[0]);
    web.spec.template.spec.containers[0].ports[0].containerPort = 'three thousand';
    const policy = structuredClone(find(overlays.prod, 'NetworkPolicy', 'bank-web')[0]);
    policy.spec.policyTypes = ['Sideways'];
    const monitor = structuredClone(find(overlays.prod, 'PodMonitor')[0]);
    delete monitor.spec.selector;
    const problems = await schemaProblems([web, policy, monitor]);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain('containerPort');
  });

  it('dev runs PostgreSQL and Redis as StatefulSets with probes and volumes; prod uses external ones', () => {
    for (const name of ['postgres', 'redis']) {
      const [sts] = find(overlays.dev, 'StatefulSet', name);
      expect(sts, name).toBeDefined();
      const c = sts.spec.template.spec.containers[0];
      expect(c.readinessProbe, name).toBeDefined();
      expect(c.livenessProbe, name).toBeDefined();
      expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage, name).toBeDefined();
      expect(
        c.volumeMounts.map((m: any) => m.name),
        name,
      ).toContain('data');
      expect(find(overlays.dev, 'Service', name)[0].spec.clusterIP).toBe('None');
      expect(sts.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    }
    // The dev secret points the app at those Services.
    const secret = find(overlays.dev, 'Secret', 'bank-secrets')[0];
    const url = Buffer.from(secret.data!.DATABASE_URL, 'base64').toString();
    expect(new URL(url).hostname).toBe('postgres');
    expect(new URL(Buffer.from(secret.data!.REDIS_URL, 'base64').toString()).hostname).toBe('redis');
    const creds = find(overlays.dev, 'Secret', 'postgres-credentials')[0];
    expect(new URL(url).password).toBe(Buffer.from(creds.data!.POSTGRES_PASSWORD, 'base64').toString());

    expect(find(overlays.prod, 'StatefulSet')).toEqual([]);
    expect(find(overlays.prod, 'Secret')).toEqual([]);
  });

  it('migrations run before the app, in an init step that takes the advisory lock', () => {
    const lock = read('db/lock.ts');
    expect(read('db/migrate-cli.ts')).toContain('oneAtATime(');
    expect(lock).toContain('pg_advisory_xact_lock');
    expect(read('server.ts')).toContain('oneAtATime(');
    expect(readJsonc('tsconfig.build.json').compilerOptions.outDir).toBe('dist');
    for (const objs of Object.values(overlays)) {
      for (const d of find(objs, 'Deployment')) {
        const [init] = d.spec.template.spec.initContainers;
        expect(init.command, d.metadata.name).toEqual(['node', 'dist/db/migrate-cli.js']);
        expect(init.image).toBe(d.spec.template.spec.containers[0].image);
        expect(init.env.map((e: any) => e.name)).toContain('DATABASE_URL');
      }
    }
  });

  it('network policies: deny by default; web from the ingress and Prometheus; web and worker to the database and Redis only', () => {
    for (const [name, objs] of Object.entries(overlays)) {
      const deny = find(objs, 'NetworkPolicy', 'bank-default-deny')[0];
      expect(deny.spec.podSelector, name).toEqual({});
      expect(deny.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(deny.spec.ingress ?? []).toEqual([]);
      expect(deny.spec.egress ?? []).toEqual([]);
      const web = find(objs, 'NetworkPolicy', 'bank-web')[0].spec;
      const worker = find(objs, 'NetworkPolicy', 'bank-worker')[0].spec;
      const sources = (p: any) =>
        p.ingress.flatMap((r: any) => r.from.map((f: any) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']));
      expect(sources(web)).toEqual(['ingress-nginx', 'monitoring']);
      expect(sources(worker)).toEqual(['monitoring']);
      const ports = (p: any) =>
        p.egress
          .flatMap((r: any) => r.ports.map((x: any) => x.port))
          .filter((x: number) => x !== 53)
          .sort((a: number, b: number) => a - b);
      expect(ports(web)).toEqual([5432, 6379]);
      // The worker has no hub (no Redis) and sends mail.
      expect(ports(worker)).toEqual([465, 587, 5432]);
    }
    // dev: only the StatefulSets of the namespace, and they accept only the bank's pods.
    const web = find(overlays.dev, 'NetworkPolicy', 'bank-web')[0].spec;
    expect(web.egress[0].to[0].podSelector.matchLabels['app.kubernetes.io/name']).toBe('postgres');
    expect(web.egress[1].to[0].podSelector.matchLabels['app.kubernetes.io/name']).toBe('redis');
    expect(
      find(overlays.dev, 'NetworkPolicy', 'postgres')[0].spec.ingress[0].from[0].podSelector.matchLabels['app.kubernetes.io/name'],
    ).toBe('banking-hub');
    expect(
      find(overlays.dev, 'NetworkPolicy', 'redis')[0].spec.ingress[0].from[0].podSelector.matchLabels['app.kubernetes.io/component'],
    ).toBe('web');
  });

  it('scraping carries METRICS_TOKEN: the pods read it from the Secret the PodMonitor sends', () => {
    const [monitor] = find(overlays.prod, 'PodMonitor');
    const endpoint = monitor.spec.podMetricsEndpoints[0];
    expect(endpoint.authorization).toEqual({ type: 'Bearer', credentials: { name: 'bank-metrics', key: 'METRICS_TOKEN' } });
    expect(endpoint.port).toBe('http');
    expect(monitor.spec.selector.matchLabels['app.kubernetes.io/name']).toBe('banking-hub');
    // Alerts select job=~"banking-hub.*" and split by component: the PodMonitor sets both.
    expect(endpoint.relabelings).toContainEqual({ targetLabel: 'job', replacement: 'banking-hub' });
    expect(endpoint.relabelings.map((r: any) => r.targetLabel)).toContain('component');
    for (const [name, objs] of Object.entries(overlays)) {
      for (const c of bankContainers(objs).filter((x) => x.name !== 'migrate')) {
        const env = c.env.find((e: any) => e.name === 'METRICS_TOKEN');
        expect(env?.valueFrom.secretKeyRef.key, `${name} ${c.deployment}`).toBe('METRICS_TOKEN');
        expect(env.valueFrom.secretKeyRef.name).toMatch(/^bank-metrics(-[a-z0-9]+)?$/);
      }
    }
    expect(
      Buffer.from(find(overlays.dev, 'Secret', 'bank-metrics')[0].data!.METRICS_TOKEN, 'base64').toString().length,
    ).toBeGreaterThanOrEqual(16);
  });

  it('every variable the bank containers get is a setting of config.ts, with a value it accepts', () => {
    for (const [name, objs] of Object.entries(overlays)) {
      const configMap = find(objs, 'ConfigMap', 'bank-config')[0].data!;
      const secretKeys = bankContainers(objs).flatMap((c) => (c.env ?? []).map((e: any) => e.name));
      const keys = new Set([...Object.keys(configMap), ...secretKeys]);
      expect(
        [...keys].filter((k) => !CONFIG_KEYS.includes(k)),
        name,
      ).toEqual([]);
      for (const c of bankContainers(objs).filter((x) => x.name !== 'migrate')) {
        const env: Record<string, string> = {
          ...configMap,
          DATABASE_URL: 'postgres://bank@db:5432/bank',
          REDIS_URL: 'redis://redis:6379',
          METRICS_TOKEN: 'x'.repeat(32),
        };
        for (const e of c.env) if (e.value !== undefined) env[e.name] = e.value;
        expect(() => loadConfig(env), `${name} ${c.deployment}`).not.toThrow();
      }
    }
  });
});

// ---------------------------------------------------------------------------------------

describe('Jenkinsfile', () => {
  it('passes npm-groovy-lint (no error, no warning), which refuses a broken pipeline', () => {
    // The broken copy sits inside the project (.tmp/ is ignored): CodeNarc is given files
    // relative to its base directory.
    const broken = path.join(ROOT, '.tmp', `Jenkinsfile.broken-${process.pid}`);
    fs.mkdirSync(path.dirname(broken), { recursive: true });
    fs.writeFileSync(broken, read('Jenkinsfile').replace("stage('Install') {", "stage('Install') {{"));
    onTestFinished(() => fs.rmSync(broken, { force: true }));
    // One run for both files: the linter starts a JVM each time.
    const r = run(
      path.join(ROOT, 'node_modules/.bin/npm-groovy-lint'),
      ['--noserver', '--output', 'json', '--failon', 'warning', 'Jenkinsfile', broken],
      { timeout: 240_000 },
    );
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
      files: Record<string, { errors: Array<{ severity: string; msg: string }> }>;
    };
    const problems = (file: string) =>
      (report.files[file]?.errors ?? []).filter((e) => e.severity !== 'info').map((e) => `${e.severity}: ${e.msg}`);
    expect(report.files[path.join(ROOT, 'Jenkinsfile')]).toBeDefined();
    expect(problems(path.join(ROOT, 'Jenkinsfile'))).toEqual([]);
    expect(problems(broken).some((p) => p.startsWith('error'))).toBe(true);
  }, 300_000);

  it('has the stages of a release, rolls back on failure, and holds no credentials', () => {
    const jf = read('Jenkinsfile');
    const stages = [...jf.matchAll(/stage\('([^']+)'\)/g)].map((m) => m[1]);
    expect(stages).toEqual([
      'Checkout',
      'Install',
      'Lint and typecheck',
      'Lint',
      'Typecheck server',
      'Typecheck client',
      'Test',
      'Image',
      'Deploy',
    ]);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const m of jf.matchAll(/npm run ([\w:-]+)/g)) expect(scripts[m[1]], m[1]).toBeDefined();
    expect(jf).toContain('bash .ci/run');
    expect(jf).toMatch(/git rev-parse --short=16 "HEAD\^\{tree\}"/);
    expect(jf).toMatch(/docker build --pull -t "\$IMAGE:\$IMAGE_TAG"/);
    expect(jf).toContain('kubectl kustomize reports/release');
    expect(jf).toContain('resources: [../../manifests/overlays/prod]');
    expect(jf).toMatch(/rollout status deployment\/bank-web/);
    expect(jf).toContain('/readyz');
    expect(jf).toMatch(
      /catch \(err\) \{[\s\S]*rollout undo deployment\/bank-web[\s\S]*rollout undo deployment\/bank-worker[\s\S]*throw err/,
    );
    // Credentials only by id; nothing that looks like a secret value.
    expect(jf).not.toMatch(/(password|token|secret)\s*[:=]\s*['"][^'"$]/i);
    expect(jf).not.toMatch(/-----BEGIN|AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{20}/);
    expect([...jf.matchAll(/credentialsId: '([^']+)'/g)].map((m) => m[1]).sort()).toEqual(['bank-kubeconfig', 'bank-registry']);
  });
});

// ---------------------------------------------------------------------------------------

interface DockerRules {
  problems: string[];
}

/** The Dockerfile rules that matter, as a function so a broken Dockerfile can be shown to fail. */
function dockerfileProblems(text: string): DockerRules['problems'] {
  const problems: string[] = [];
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args = Object.fromEntries(
    lines.flatMap((l) =>
      [...(/^ARG\s+(\w+)=(\S+)/.exec(l) ?? [])].length ? [[/^ARG\s+(\w+)=(\S+)/.exec(l)![1], /^ARG\s+(\w+)=(\S+)/.exec(l)![2]]] : [],
    ),
  );
  const stages = lines.map((l, i) => ({ l, i })).filter(({ l }) => /^FROM\s/i.test(l));
  if (!stages.length) return ['no FROM'];
  const stageNames = new Set(stages.map(({ l }) => /\bAS\s+(\S+)/i.exec(l)?.[1]).filter(Boolean));
  for (const { l } of stages) {
    const image = l.split(/\s+/)[1].replace(/^\$\{(\w+)\}$|^\$(\w+)$/, (_m, a, b) => args[a ?? b] ?? '');
    if (stageNames.has(image)) continue;
    // An exact version (x.y.z) or a digest; never a floating tag.
    if (!/@sha256:[0-9a-f]{64}$/.test(image) && !/:[^:@]*\d+\.\d+\.\d+[^:@]*$/.test(image))
      problems.push(`base image not pinned: ${image || l}`);
  }
  const final = lines.slice(stages[stages.length - 1].i);
  const user = final.filter((l) => /^USER\s/i.test(l)).pop();
  if (!user || /^USER\s+(0|root)(:|\s|$)/i.test(user)) problems.push('the final stage does not run as a non-root USER');
  if (!final.some((l) => /^HEALTHCHECK\s+(--\S+\s+)*CMD\s/i.test(l))) problems.push('no HEALTHCHECK in the final stage');
  for (const l of lines) {
    if (/^(ENV|ARG)\s/i.test(l) && /(PASSWORD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|DATABASE_URL)\w*\s*=/i.test(l))
      problems.push(`secret-like setting baked into the image: ${l}`);
    if (/^(COPY|ADD)\s/i.test(l) && /(\.env\b|id_rsa|\.pem\b|\.npmrc\b|kubeconfig)/i.test(l))
      problems.push(`secret-like file copied: ${l}`);
    if (/^ADD\s+https?:/i.test(l)) problems.push(`remote ADD: ${l}`);
  }
  const cmd = final.filter((l) => /^CMD\s/i.test(l)).pop();
  if (!cmd || !/^CMD\s+\[/.test(cmd)) problems.push('CMD is not in exec form (node must be PID 1 to get SIGTERM)');
  return problems;
}

describe('Dockerfile', () => {
  const docker = read('Dockerfile');

  it('keeps the rules that matter: pinned base, non-root, no secrets, a healthcheck, exec-form CMD', () => {
    expect(dockerfileProblems(docker)).toEqual([]);
    expect(read('.dockerignore').split('\n')).toEqual(expect.arrayContaining(['.env', '.env.*', '.git', 'node_modules', 'dist']));
  });

  it('the rules refuse a broken Dockerfile', () => {
    const broken = docker
      .replace(/^ARG NODE_IMAGE=.*$/m, 'ARG NODE_IMAGE=node:latest')
      .replace(/^USER .*$/m, 'USER root')
      .replace(/^HEALTHCHECK[\s\S]*?\n(?=#|CMD)/m, '')
      .replace(/^ENV NODE_ENV=production/m, 'ENV NODE_ENV=production DATABASE_URL=postgres://bank:hunter2@db/bank')
      .replace(/^CMD .*$/m, 'CMD npm start');
    const problems = dockerfileProblems(broken);
    expect(problems.join('\n')).toMatch(/not pinned[\s\S]*non-root[\s\S]*HEALTHCHECK[\s\S]*secret-like[\s\S]*exec form/);
  });

  it('runs the compiled server, which npm run build produces, on the default port', () => {
    const cmd = JSON.parse(/^CMD\s+(\[.*\])\s*$/m.exec(docker)![1]) as string[];
    expect(cmd[0]).toBe('node');
    const entry = cmd.find((a) => a.endsWith('.js'))!;
    expect(entry).toBe('dist/server.js');
    // tsconfig.build.json compiles server.ts to dist/server.js; the build stage runs npm run build.
    const build = readJsonc('tsconfig.build.json') as {
      compilerOptions: { outDir: string; rootDir: string; sourceMap: boolean };
      include: string[];
    };
    expect(path.join(build.compilerOptions.outDir, path.relative(build.compilerOptions.rootDir, 'server.ts')).replace(/\.ts$/, '.js')).toBe(
      entry,
    );
    expect(build.include).toContain('server.ts');
    expect(build.compilerOptions.sourceMap).toBe(true);
    expect(docker).toMatch(/^RUN npm run build$/m);
    expect(docker).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(docker).toMatch(/^COPY --from=build \/app\/client\/dist \.\/client\/dist$/m);
    expect(docker).toMatch(/npm prune --omit=dev/);
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.dependencies.tsx, 'the image runs JavaScript: tsx is a dev dependency').toBeUndefined();
    expect(pkg.scripts.build).toMatch(/build:server/);
    expect(Number(/^EXPOSE\s+(\d+)/m.exec(docker)?.[1])).toBe(loadConfig({}).PORT);
  });
});

// ---------------------------------------------------------------------------------------

describe('the local stack (compose.yaml)', () => {
  const compose = parseYaml(read('compose.yaml'), { merge: true }) as { services: Record<string, any>; volumes: Record<string, unknown> };

  it('passes docker-compose config, which refuses a broken file', () => {
    const ok = run('docker-compose', ['-f', 'compose.yaml', 'config', '-q']);
    expect(ok.status, ok.text).toBe(0);
    const file = tmpFile(
      'compose/compose.yaml',
      read('compose.yaml').replace('condition: service_completed_successfully', 'condition: service_done'),
    );
    const broken = run('docker-compose', ['-f', file, '--project-directory', ROOT, 'config', '-q']);
    expect(broken.status).not.toBe(0);
    expect(broken.text).toContain('service_done');
  });

  it('brings up the whole system from the image, every long-running service with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'grafana',
      'lb',
      'migrate',
      'postgres',
      'prometheus',
      'redis',
      'web1',
      'web2',
      'worker',
    ]);
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'migrate') continue;
      expect(s.healthcheck?.test, name).toBeDefined();
    }
    const app = ['migrate', 'web1', 'web2', 'worker'].map((n) => compose.services[n]);
    for (const s of app) expect(s.image).toBe(compose.services.web1.image);
    expect(compose.services.migrate.command).toEqual(['node', 'dist/db/migrate-cli.js']);
    expect(compose.services.migrate.restart).toBe('no');
    for (const n of ['web1', 'web2', 'worker'])
      expect(compose.services[n].depends_on.migrate.condition).toBe('service_completed_successfully');
    expect(compose.services.web1.environment.ROLE).toBe('web');
    expect(compose.services.web2.environment.ROLE).toBe('web');
    expect(compose.services.worker.environment.ROLE).toBe('worker');
    for (const s of app) {
      const env = Object.fromEntries(
        Object.entries(s.environment as Record<string, string>).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]),
      );
      expect(Object.keys(env).filter((k) => !CONFIG_KEYS.includes(k))).toEqual([]);
      expect(() => loadConfig(env)).not.toThrow();
    }
  });

  it('the load balancer pins each browser to one web process (cookie), and passes haproxy -c', () => {
    const cfg = read('compose/haproxy.cfg');
    expect(cfg).toMatch(/^\s*cookie bank_route insert/m);
    const servers = [...cfg.matchAll(/^\s*server (\S+) (\S+):3000 cookie (\S+)/gm)];
    expect(servers.map((m) => m[2])).toEqual(['web1', 'web2']);
    expect(servers.every((m) => m[1] === m[3])).toBe(true);
    expect(cfg).toMatch(/timeout tunnel 1h/);
    expect(compose.services.lb.volumes).toContain('./compose/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    const ok = run('haproxy', ['-c', '-f', 'compose/haproxy.cfg']);
    expect(ok.status, ok.text).toBe(0);
    const broken = run('haproxy', ['-c', '-f', tmpFile('haproxy.cfg', cfg.replace('balance roundrobin', 'balance sideways'))]);
    expect(broken.status).not.toBe(0);
  });

  it('Prometheus scrapes both web processes and the worker with the alert rules; the token is the one the app gets', () => {
    const prom = parseYaml(read('prometheus/prometheus.compose.yml')) as {
      rule_files: string[];
      scrape_configs: Array<{ static_configs: Array<{ targets: string[]; labels: Record<string, string> }> }>;
    };
    const targets = prom.scrape_configs[0].static_configs.map((s) => `${s.targets[0]} ${s.labels.component}`);
    expect(targets).toEqual(['web1:3000 web', 'web2:3000 web', 'worker:3000 worker']);
    expect(prom.rule_files).toEqual(['alerts.yml']);
    const p = compose.services.prometheus;
    expect(p.volumes).toEqual(
      expect.arrayContaining([
        './prometheus/prometheus.compose.yml:/etc/prometheus/prometheus.yml:ro',
        './prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro',
      ]),
    );
    expect(p.environment.METRICS_TOKEN).toBe(compose.services.web1.environment.METRICS_TOKEN);
    expect(p.entrypoint.join(' ')).toContain('> /prometheus/metrics-token');
  });
});

describe('Grafana provisioning', () => {
  const compose = parseYaml(read('compose.yaml'), { merge: true }) as { services: Record<string, any> };
  /** Container path -> repository path, from the Grafana service's mounts. */
  const mounts = new Map<string, string>(
    (compose.services.grafana.volumes as string[]).map((v) => {
      const [host, container] = v.split(':');
      return [container, host.replace(/^\.\//, '')];
    }),
  );
  const hostPath = (containerPath: string) => {
    for (const [c, h] of mounts)
      if (containerPath === c || containerPath.startsWith(`${c}/`)) return path.join(h, containerPath.slice(c.length));
    return null;
  };

  it('the dashboard providers point at folders that hold the dashboards, each with a unique uid', () => {
    const dir = hostPath('/etc/grafana/provisioning/dashboards');
    expect(dir).toBe('grafana/provisioning/dashboards');
    const providers = fs
      .readdirSync(path.join(ROOT, dir!))
      .flatMap((f) => (parseYaml(read(path.join(dir!, f))) as { providers: Array<{ options: { path: string } }> }).providers);
    expect(providers.length).toBeGreaterThan(0);
    const uids: string[] = [];
    for (const p of providers) {
      const folder = hostPath(p.options.path);
      expect(folder, p.options.path).not.toBeNull();
      const files = fs.readdirSync(path.join(ROOT, folder!)).filter((f) => f.endsWith('.json'));
      expect(files.sort()).toEqual(['banking-hub.json', 'realtime-hub.json']);
      for (const f of files) uids.push((JSON.parse(read(path.join(folder!, f))) as { uid: string }).uid);
    }
    expect(new Set(uids).size).toBe(uids.length);
    expect(hostPath(compose.services.grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH)).toBe(
      'grafana/dashboards/banking-hub.json',
    );
  });

  it('the data source the dashboards select is provisioned, at the Prometheus of the stack', () => {
    const dir = hostPath('/etc/grafana/provisioning/datasources')!;
    const sources = fs
      .readdirSync(path.join(ROOT, dir))
      .flatMap((f) => (parseYaml(read(path.join(dir, f))) as { datasources: Array<{ type: string; url: string }> }).datasources);
    expect(sources.map((s) => s.type)).toContain('prometheus');
    expect(new URL(sources.find((s) => s.type === 'prometheus')!.url).host).toBe('prometheus:9090');
    for (const f of ['banking-hub.json', 'realtime-hub.json']) {
      const dash = JSON.parse(read(`grafana/dashboards/${f}`)) as {
        templating: { list: Array<{ name: string; type: string; query: string }> };
      };
      expect(dash.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    }
  });
});
