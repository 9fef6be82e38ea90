/**
 * The operator's files stay true to the app: every metric a Prometheus rule or a Grafana
 * panel queries is one runtime/metrics.ts registers (with its real labels), every variable the
 * Kubernetes manifests set is one config.ts reads (with a value it accepts), the kustomize
 * base lists every manifest it has, and the Dockerfile runs a file that exists on the
 * port the app listens on. A renamed metric or variable breaks this test, not production.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBankContext } from '../../bank/core/context.js';
import { loadConfig } from '../../config.js';
import { createMetrics } from '../../runtime/metrics.js';
import { createTestDb, type TestDb } from '../helpers/db.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
const exists = (rel: string) => fs.existsSync(path.join(ROOT, rel));

/** Labels Prometheus attaches to every scraped series (prometheus/*.yml relabelling). */
const TARGET_LABELS = new Set(['job', 'instance', 'namespace', 'pod', 'component']);
/** Series Prometheus makes itself. */
const SYNTHETIC: Record<string, string[]> = { up: [] };

interface Series {
  metric: string;
  labels: Set<string>;
}

// ---------------------------------------------------------------------------------------
// What the app exports: series names (histograms as _bucket/_sum/_count) and their labels.

let testDb: TestDb;
const series = new Map<string, Series>();
const appMetrics: string[] = [];

beforeAll(async () => {
  testDb = await createTestDb('sqlite');
  const bank = createBankContext(testDb.db, { currency: 'INR' });
  const { registry } = createMetrics(bank);
  for (const m of await registry.getMetricsAsJSON()) {
    const labelNames: string[] = (registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] })?.labelNames ?? [];
    const labels = new Set(labelNames);
    const add = (name: string, extra: string[] = []) => series.set(name, { metric: m.name, labels: new Set([...labels, ...extra]) });
    // prom-client types this as an enum whose values are these strings.
    const type = String(m.type);
    if (type === 'histogram') {
      add(`${m.name}_bucket`, ['le']);
      add(`${m.name}_sum`);
      add(`${m.name}_count`);
    } else if (type === 'summary') {
      add(m.name, ['quantile']);
      add(`${m.name}_sum`);
      add(`${m.name}_count`);
    } else {
      add(m.name);
    }
    if (m.name.startsWith('bank_') && !m.name.startsWith('bank_node_')) appMetrics.push(m.name);
  }
  for (const [name, labels] of Object.entries(SYNTHETIC)) series.set(name, { metric: name, labels: new Set(labels) });
});

afterAll(async () => {
  await testDb?.destroy();
});

// ---------------------------------------------------------------------------------------
// A small PromQL reader: enough to find the metric names, the label matchers and the
// grouping labels of an expression, without a parser.

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

interface PromRefs {
  metrics: Array<{ name: string; matchers: string[] }>;
  /** Labels named in by/without/on/ignoring/group_x clauses. */
  grouping: string[];
  /** Label matchers with no metric name before them, e.g. {__name__=~"..."} (we use none). */
  bare: string[];
}

function promRefs(expr: string): PromRefs {
  // Strings out first: label values may contain anything, braces included.
  let e = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  const metrics: PromRefs['metrics'] = [];
  const bare: string[] = [];
  e = e.replace(/([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}/g, (_all, name: string | undefined, body: string) => {
    const matchers = [...body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]);
    if (name && !KEYWORDS.has(name)) {
      metrics.push({ name, matchers });
      return ' ';
    }
    bare.push(...matchers);
    return ` ${name ?? ''} `;
  });
  const grouping: string[] = [];
  e = e.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_all, _kw, body: string) => {
    grouping.push(
      ...body
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    return ' ';
  });
  e = e.replace(/\[[^\]]*\]/g, ' ').replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  for (const m of e.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()/g)) {
    if (!KEYWORDS.has(m[1])) metrics.push({ name: m[1], matchers: [] });
  }
  return { metrics, grouping, bare };
}

/**
 * Prometheus attaches TARGET_LABELS to every series and renames an app label of the same name
 * to exported_<name> (the app's "job" becomes "exported_job"); no other label is renamed.
 */
function labelIsValid(label: string, appLabels: Set<string>): boolean {
  const exported = /^exported_(.+)$/.exec(label);
  if (exported) return TARGET_LABELS.has(exported[1]) && appLabels.has(exported[1]);
  return TARGET_LABELS.has(label) || appLabels.has(label);
}

function problemsOf(where: string, expr: string): string[] {
  const problems: string[] = [];
  const refs = promRefs(expr);
  if (!refs.metrics.length) problems.push(`${where}: no metric in ${JSON.stringify(expr)}`);
  const all = new Set<string>();
  for (const { name, matchers } of refs.metrics) {
    const s = series.get(name);
    if (!s) {
      problems.push(`${where}: ${name} is not a series the app exports`);
      continue;
    }
    for (const l of s.labels) all.add(l);
    for (const matcher of matchers) {
      if (!labelIsValid(matcher, s.labels)) problems.push(`${where}: ${name} has no label ${matcher}`);
      // A matcher on a label both sides have means Prometheus' (so it is refused even for the
      // scrape job: select by namespace or pod instead).
      if (TARGET_LABELS.has(matcher) && s.labels.has(matcher))
        problems.push(`${where}: ${name}{${matcher}} is Prometheus' label; the app's is exported_${matcher}`);
    }
  }
  for (const l of [...refs.grouping, ...refs.bare]) {
    if (!labelIsValid(l, all)) problems.push(`${where}: no metric in the expression has the label ${l}`);
    if (TARGET_LABELS.has(l) && all.has(l))
      problems.push(`${where}: grouping by ${l} means Prometheus' label here; the app's is exported_${l}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// The files, read without a YAML parser.

/** The `expr:` of each rule in a Prometheus rules file: one line, or a `|` block. */
function alertExprs(text: string): Array<{ alert: string; expr: string }> {
  const lines = text.split('\n');
  const out: Array<{ alert: string; expr: string }> = [];
  let alert = '';
  for (let i = 0; i < lines.length; i++) {
    const a = /^\s*-\s*alert:\s*(\S+)/.exec(lines[i]);
    if (a) alert = a[1];
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]);
    if (!m) continue;
    const indent = m[1].length;
    const rest = m[2].trim();
    if (/^[|>][-+]?$/.test(rest)) {
      const block: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1].trim() === '' || lines[i + 1].search(/\S/) > indent)) block.push(lines[++i]);
      out.push({ alert, expr: block.join('\n').trim() });
    } else {
      out.push({ alert, expr: rest.replace(/^(['"])(.*)\1$/, '$2') });
    }
  }
  return out;
}

interface Panel {
  id?: number;
  title?: string;
  type?: string;
  datasource?: { uid?: string };
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

function dashboardQueries(file: string): Array<{ where: string; expr: string }> {
  const dash = JSON.parse(read(file)) as {
    panels: Panel[];
    templating?: { list: Array<{ name: string; type: string; query?: string | { query?: string } }> };
  };
  const out: Array<{ where: string; expr: string }> = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `${file} panel "${p.title}"`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dash.panels);
  for (const v of dash.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
    // label_values(selector, label): the selector is PromQL, the label must be one it has.
    const lv = /^label_values\(\s*(.+),\s*([a-zA-Z_]\w*)\s*\)$/.exec(q.trim());
    out.push(
      lv
        ? { where: `${file} variable $${v.name}`, expr: `count by (${lv[2]}) (${lv[1]})` }
        : { where: `${file} variable $${v.name}`, expr: q },
    );
  }
  return out;
}

const listFiles = (dir: string, ext: RegExp): string[] =>
  fs
    .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? listFiles(path.join(dir, d.name), ext) : ext.test(d.name) ? [path.join(dir, d.name)] : []));

/** Entries of a top-level list key (`resources:`, ...) in a kustomization file. */
function yamlList(text: string, key: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trimEnd() === `${key}:`);
  if (start < 0) return [];
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (/^\S/.test(l)) break;
    const m = /^\s+-\s+(\S+)\s*$/.exec(l);
    if (m) out.push(m[1]);
  }
  return out;
}

/** KEY=value lines of a kustomize env file. */
function envFile(rel: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of read(rel).split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

const CONFIG_KEYS = [...read('config.ts').matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]);
const DEFAULTS = loadConfig({});

// ---------------------------------------------------------------------------------------

describe('prometheus and grafana query only what the app exports', () => {
  it('reads PromQL the way Prometheus does (the checker itself)', () => {
    const r = promRefs(
      'sum by (job_name) (increase(bank_job_runs_total{outcome="failure", x="a{b}"}[30m] offset 1h)) > 1e-3 and on (route) up',
    );
    expect(r.metrics.map((m) => m.name)).toEqual(['bank_job_runs_total', 'up']);
    expect(r.metrics[0].matchers).toEqual(['outcome', 'x']);
    expect(r.grouping).toEqual(['job_name', 'route']);
    expect(problemsOf('self-test', 'rate(bank_no_such_metric_total[5m])')).toHaveLength(1);
    expect(problemsOf('self-test', 'bank_logins_total{result="x"}')).toHaveLength(1);
    expect(problemsOf('self-test', 'histogram_quantile(0.9, rate(bank_event_publish_lag_seconds[5m]))')).toHaveLength(1);
    expect(problemsOf('self-test', 'sum by (job_name) (rate(bank_logins_total[5m]))')).toHaveLength(1);
    expect(problemsOf('self-test', 'bank_job_runs_total{jobname="mail"}')).toHaveLength(1);
    expect(problemsOf('self-test', 'sum by (job) (bank_job_runs_total)')).toEqual([]);
    expect(problemsOf('self-test', 'sum by (job_name) (bank_job_runs_total{job_name="mail"})')).toEqual([]);
    expect(problemsOf('self-test', 'sum by (exported_outcome) (bank_job_runs_total)')).toHaveLength(1);
    expect(problemsOf('self-test', 'sum by (kind) (bank_logins_total)')).toHaveLength(1);
    expect(problemsOf('self-test', 'sum by (le) (rate(bank_event_publish_lag_seconds_bucket[5m]))')).toEqual([]);
  });

  it('the registry is the one the dashboards were written against', () => {
    expect(series.has('bank_http_request_duration_seconds_bucket')).toBe(true);
    expect(series.get('bank_job_runs_total')?.labels).toEqual(new Set(['job_name', 'outcome']));
    expect(series.has('bank_node_nodejs_eventloop_lag_p99_seconds')).toBe(true);
  });

  it('every alert rule uses real metrics and labels', () => {
    const text = read('prometheus/alerts.yml');
    const rules = alertExprs(text);
    expect(rules.length).toBe([...text.matchAll(/^\s*-\s*alert:/gm)].length);
    expect(rules.length).toBeGreaterThanOrEqual(10);
    const problems = rules.flatMap((r) => problemsOf(`alert ${r.alert}`, r.expr));
    expect(problems).toEqual([]);
  });

  it('the alerts cover errors, latency, outbox, publish lag, jobs, logins and liveness', () => {
    const used = new Set(alertExprs(read('prometheus/alerts.yml')).flatMap((r) => promRefs(r.expr).metrics.map((m) => m.name)));
    for (const name of [
      'bank_http_request_duration_seconds_count',
      'bank_http_request_duration_seconds_bucket',
      'bank_outbox_backlog',
      'bank_event_publish_lag_seconds_bucket',
      'bank_job_runs_total',
      'bank_logins_total',
      'up',
    ]) {
      expect(used, name).toContain(name);
    }
  });

  it('every Grafana query uses real metrics and labels', () => {
    const files = listFiles('grafana/dashboards', /\.json$/);
    expect(files.length).toBeGreaterThan(0);
    const queries = files.flatMap((f) => dashboardQueries(f));
    expect(queries.length).toBeGreaterThan(20);
    const problems = queries.flatMap((q) => problemsOf(q.where, q.expr));
    expect(problems).toEqual([]);
  });

  it('the dashboards show every metric the app defines', () => {
    const used = new Set(
      listFiles('grafana/dashboards', /\.json$/)
        .flatMap((f) => dashboardQueries(f))
        .flatMap((q) => promRefs(q.expr).metrics.map((m) => series.get(m.name)?.metric)),
    );
    expect(appMetrics.length).toBeGreaterThanOrEqual(10);
    expect(appMetrics.filter((m) => !used.has(m))).toEqual([]);
  });

  it('dashboard panels have unique ids and use the selectable data source', () => {
    const uids: Record<string, string> = { 'banking-hub.json': 'banking-hub', 'realtime-hub.json': 'banking-hub-realtime' };
    for (const [file, uid] of Object.entries(uids)) {
      const dash = JSON.parse(read(`grafana/dashboards/${file}`)) as { uid: string; panels: Panel[] };
      expect(dash.uid).toBe(uid);
      const ids = dash.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const p of dash.panels.filter((x) => x.type !== 'row')) expect(p.datasource?.uid, p.title).toBe('${datasource}');
    }
  });

  it('the real-time dashboard shows what the hub needs watching', () => {
    const used = new Set(
      dashboardQueries('grafana/dashboards/realtime-hub.json').flatMap((q) =>
        promRefs(q.expr).metrics.map((m) => series.get(m.name)?.metric),
      ),
    );
    for (const m of [
      'bank_socket_connections',
      'bank_socket_connects_total',
      'bank_socket_disconnects_total',
      'bank_socket_refusals_total',
      'bank_events_published_total',
      'bank_event_publish_lag_seconds',
      'bank_events_replayed_total',
      'bank_socket_commands_total',
      'bank_redis_adapter_up',
      'bank_redis_adapter_publish_failures_total',
    ])
      expect(used, m).toContain(m);
  });

  it('prometheus scrapes the pods by the annotations the manifests set', () => {
    const prom = read('prometheus/prometheus.yml');
    expect(prom).toContain('kubernetes_sd_configs');
    for (const a of ['prometheus_io_scrape', 'prometheus_io_port', 'prometheus_io_path'])
      expect(prom).toContain(`__meta_kubernetes_pod_annotation_${a}`);
    expect(prom).toMatch(/rule_files:\s*\n\s*-\s*alerts\.yml/);
    expect(read('prometheus/prometheus.local.yml')).toContain(`localhost:${DEFAULTS.PORT}`);
    for (const d of ['manifests/base/web-deployment.yaml', 'manifests/base/worker-deployment.yaml']) {
      const text = read(d);
      expect(text).toMatch(/prometheus\.io\/scrape: "true"/);
      expect(text).toContain(`prometheus.io/port: "${DEFAULTS.PORT}"`);
      expect(text).toContain('prometheus.io/path: /metrics');
      expect(text).toContain(`containerPort: ${DEFAULTS.PORT}`);
    }
  });
});

describe('kubernetes manifests', () => {
  const kustomizations = listFiles('manifests', /^kustomization\.yaml$/).map((f) => path.dirname(f));

  it('there is a base and the dev and prod overlays', () => {
    expect(kustomizations.sort()).toEqual(['manifests/base', 'manifests/overlays/dev', 'manifests/overlays/prod']);
  });

  it('the base lists every manifest file it has, and nothing that is missing', () => {
    const text = read('manifests/base/kustomization.yaml');
    const listed = yamlList(text, 'resources');
    const present = fs.readdirSync(path.join(ROOT, 'manifests/base')).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect([...listed].sort()).toEqual(present.sort());
  });

  it('every file a kustomization names exists', () => {
    for (const dir of kustomizations) {
      const text = read(`${dir}/kustomization.yaml`);
      const names = [
        ...yamlList(text, 'resources'),
        ...[...text.matchAll(/^\s+envs:\s*\n((?:\s+-\s+\S+\s*\n)+)/gm)].flatMap((m) => [...m[1].matchAll(/-\s+(\S+)/g)].map((x) => x[1])),
      ];
      expect(names.length, dir).toBeGreaterThan(0);
      for (const n of names) expect(exists(path.join(dir, n)), `${dir}: ${n}`).toBe(true);
    }
  });

  it('every environment variable the manifests set is a setting of config.ts', () => {
    expect(CONFIG_KEYS).toContain('DATABASE_URL');
    const set = new Set<string>();
    // The bank's own containers (the base); the dev StatefulSets have PostgreSQL's variables.
    // tests/unit/ops-tools.test.ts checks the same on what kubectl kustomize renders.
    for (const f of listFiles('manifests/base', /\.ya?ml$/)) {
      const text = read(f);
      for (const m of text.matchAll(/-\s+name:\s+([A-Z][A-Z0-9_]*)\s*$/gm)) set.add(m[1]);
      for (const m of text.matchAll(/^\s+key:\s+([A-Z][A-Z0-9_]*)\s*$/gm)) set.add(m[1]);
    }
    for (const m of read('manifests/overlays/dev/kustomization.yaml').matchAll(/^\s+-\s+(DATABASE_URL|REDIS_URL|METRICS_TOKEN)=/gm))
      set.add(m[1]);
    for (const f of listFiles('manifests', /\.env$/)) for (const k of Object.keys(envFile(f))) set.add(k);
    for (const k of ['ROLE', 'DATABASE_URL', 'REDIS_URL', 'BANK_ADMIN_PASSWORD', 'SMTP_URL', 'DEMO_DATA', 'METRICS_TOKEN'])
      expect(set, k).toContain(k);
    expect([...set].filter((k) => !CONFIG_KEYS.includes(k))).toEqual([]);
  });

  it('the settings each overlay produces are accepted by config.ts', () => {
    const base = envFile('manifests/base/config.env');
    const dev = { ...base, ...envFile('manifests/overlays/dev/config.env') };
    const prod = { ...base, ...envFile('manifests/overlays/prod/config.env') };
    const devSecrets = Object.fromEntries(
      [...read('manifests/overlays/dev/kustomization.yaml').matchAll(/^\s+-\s+([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2].trim()]),
    );
    const prodSecrets = { DATABASE_URL: 'postgres://bank@db.internal:5432/bank', REDIS_URL: 'redis://redis.internal:6379' };
    for (const role of ['web', 'worker']) {
      const d = loadConfig({ ...dev, ...devSecrets, ROLE: role });
      expect(d.DEMO_DATA).toBe(true);
      expect(d.DATABASE_URL).toMatch(/^postgres/);
      const p = loadConfig({ ...prod, ...prodSecrets, ROLE: role });
      expect(p.DEMO_DATA).toBe(false);
      expect(p.COOKIE_SECURE).toBe(true);
      expect(p.TRUST_PROXY).toBe(true);
    }
  });

  it('web and worker run the roles server.ts knows, with probes on /healthz and /readyz', () => {
    const web = read('manifests/base/web-deployment.yaml');
    const worker = read('manifests/base/worker-deployment.yaml');
    expect(web).toMatch(/name: ROLE\s*\n\s*value: web/);
    expect(worker).toMatch(/name: ROLE\s*\n\s*value: worker/);
    for (const text of [web, worker]) {
      expect(text).toMatch(/readinessProbe:\s*\n\s*httpGet:\s*\n\s*path: \/readyz/);
      expect(text).toMatch(/livenessProbe:\s*\n\s*httpGet:\s*\n\s*path: \/healthz/);
      expect(text).toContain('readOnlyRootFilesystem: true');
      expect(text).toContain('runAsNonRoot: true');
      expect(text).toContain('mountPath: /tmp');
    }
  });
});

describe('Dockerfile', () => {
  // The rules that matter (pinned base, non-root, no secrets, healthcheck, the compiled entry
  // point) are in tests/unit/ops-tools.test.ts; these tie the image to the rest of the repository.
  const docker = read('Dockerfile');
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };

  it('exposes the port the app listens on by default and checks /healthz', () => {
    const expose = /^EXPOSE\s+(\d+)/m.exec(docker);
    expect(Number(expose?.[1])).toBe(DEFAULTS.PORT);
    expect(docker).toMatch(/^HEALTHCHECK[\s\S]*\/healthz/m);
    expect(docker).toMatch(/^ENV\s+NODE_ENV=production/m);
  });

  it('builds with scripts package.json has', () => {
    for (const m of docker.matchAll(/npm run ([\w:-]+)/g)) expect(pkg.scripts[m[1]], m[1]).toBeDefined();
  });

  it('the build context has every source the build compiles, and the image takes only the build output', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const build = JSON.parse(read('tsconfig.build.json').replace(/^\s*\/\/.*$/gm, '')) as { include: string[]; extends: string };
    for (const p of [
      ...build.include,
      'tsconfig.build.json',
      build.extends.replace(/^\.\//, ''),
      'package.json',
      'package-lock.json',
      'client',
    ])
      expect(ignored, p).not.toContain(p);
    expect(ignored).toContain('dist');
    const copied = [...docker.matchAll(/^COPY --from=build (.+) \S+$/gm)]
      .flatMap((m) => m[1].split(/\s+/))
      .map((p) => p.replace(/^\/app\//, ''));
    expect(copied.sort()).toEqual(['client/dist', 'dist', 'node_modules', 'package-lock.json', 'package.json']);
  });
});

describe('pipeline and operations guide', () => {
  it('the Jenkinsfile runs scripts and paths that exist', () => {
    const jf = read('Jenkinsfile');
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const m of jf.matchAll(/npm run ([\w:-]+)/g)) expect(scripts[m[1]], m[1]).toBeDefined();
    expect(jf).toContain('bash .ci/run');
    expect(exists('.ci/run')).toBe(true);
    for (const m of jf.matchAll(/kubectl apply -k (\S+)/g)) expect(exists(`${m[1]}/kustomization.yaml`)).toBe(true);
  });

  it('docs/operations.md documents every setting, metric and alert', () => {
    const doc = read('docs/operations.md');
    expect(CONFIG_KEYS.filter((k) => !doc.includes(`\`${k}\``))).toEqual([]);
    expect(appMetrics.filter((m) => !doc.includes(m))).toEqual([]);
    const alerts = alertExprs(read('prometheus/alerts.yml')).map((r) => r.alert);
    expect(alerts.filter((a) => !doc.includes(a))).toEqual([]);
  });
});
