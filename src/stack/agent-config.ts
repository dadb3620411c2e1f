import { parse, stringify } from 'yaml';
import type { Catalog } from '../images/catalog-types.js';
import { renderTemplate } from './docker/render-config.js';
import { component, configPath, ownerOf, READY_TIMEOUT_MS } from './docker/services.js';
import type { ServiceDefinition } from './docker/stack-definition.js';

/** The node agent's service name, and the path it reads the pods' log files from. */
export const AGENT_SERVICE = 'otel-agent';
export const AGENT_LOG_ROOT = '/var/log/pods';

/** The scrape job the harness adds to a scraper for its targets (Prometheus's, or an agent's prometheus receiver). */
export const HARNESS_SCRAPE_JOB = 'otel-harness';

/** One scrape job of the harness's targets, every second (each target serves a new tick only when one is due). */
export function harnessScrapeJob(targets: readonly string[]): Record<string, unknown> {
  return {
    job_name: HARNESS_SCRAPE_JOB,
    scrape_interval: '1s',
    scrape_timeout: '1s',
    static_configs: [{ targets: [...targets] }],
  };
}

/** Drops the series every scrape adds of its own, in the shipped agent's metrics pipeline. */
const SCRAPE_HEALTH_FILTER = 'filter/scrape-health';
const SCRAPE_HEALTH = {
  error_mode: 'ignore',
  metrics: { metric: ['IsMatch(name, "^(up|scrape_[a-z_]+)$")'] },
};

interface CollectorYaml {
  receivers?: Record<string, unknown>;
  processors?: Record<string, unknown>;
  service?: { pipelines?: Record<string, { receivers?: string[]; processors?: string[]; exporters?: string[] }> };
}

const PROMETHEUS_RECEIVER = /^prometheus(\/.*)?$/;

/** The prometheus receivers of a configuration's metrics pipelines (`prometheus`, `prometheus/…`). */
export function scrapingReceivers(config: string): string[] {
  const c = (parse(config) ?? {}) as CollectorYaml;
  const pipelines = Object.entries(c.service?.pipelines ?? {}).filter(([name]) => /^metrics(\/.*)?$/.test(name));
  return [
    ...new Set(pipelines.flatMap(([, p]) => (p.receivers ?? []).filter((r) => PROMETHEUS_RECEIVER.test(r)))),
  ].filter((r) => c.receivers?.[r] !== undefined);
}

/**
 * The node agent's configuration for what it does in the run: `base` (stacks/phase1/agent.yaml, or the
 * user's) reads the log files when `files`; without them its filelog receivers and logs pipelines go (a
 * shipped configuration) — a user's is kept as given. With `scrapeTargets` the harness's scrape job is added to
 * every prometheus receiver of its metrics pipelines; the shipped configuration gets one, forwarding to the
 * collector through the logs' exporter and processors. Undefined: a user's configuration scrapes with no
 * prometheus receiver in a metrics pipeline (the caller refuses it).
 */
export function agentConfigFor(
  base: string,
  options: { shipped: boolean; files: boolean; scrapeTargets?: readonly string[] },
): string | undefined {
  if (options.scrapeTargets === undefined && (options.files || !options.shipped)) return base;
  const c = (parse(base) ?? {}) as CollectorYaml & Record<string, unknown>;
  const pipelines = (c.service ??= {}).pipelines ?? (c.service.pipelines = {});
  const logs = pipelines.logs;
  if (options.shipped && !options.files) {
    for (const name of Object.keys(c.receivers ?? {})) if (/^filelog(\/.*)?$/.test(name)) delete c.receivers![name];
    for (const name of Object.keys(pipelines)) if (/^logs(\/.*)?$/.test(name)) delete pipelines[name];
  }
  if (options.scrapeTargets !== undefined) {
    const job = harnessScrapeJob(options.scrapeTargets);
    let receivers = scrapingReceivers(stringify(c));
    if (receivers.length === 0) {
      if (!options.shipped) return undefined;
      c.receivers = { ...c.receivers, prometheus: { config: { scrape_configs: [] } } };
      // The series a scrape adds of its own (up, scrape_duration_seconds, …) arrive every second: without
      // them the agent's pipeline goes quiet once the load ends, so the drain can tell it is idle.
      c.processors = { ...(c.processors ?? {}), [SCRAPE_HEALTH_FILTER]: SCRAPE_HEALTH };
      pipelines.metrics = {
        receivers: ['prometheus'],
        processors: [...(logs?.processors ?? []), SCRAPE_HEALTH_FILTER],
        exporters: logs?.exporters ?? [],
      };
      receivers = ['prometheus'];
    }
    for (const r of receivers) {
      const receiver = (c.receivers![r] ??= {}) as { config?: { scrape_configs?: unknown[] } };
      const config = (receiver.config ??= {});
      config.scrape_configs = [
        ...(config.scrape_configs ?? []).filter((j) => (j as { job_name?: string }).job_name !== HARNESS_SCRAPE_JOB),
        job,
      ];
    }
  }
  const what = [options.files ? 'log files' : undefined, options.scrapeTargets ? 'scrape targets' : undefined]
    .filter((x) => x !== undefined)
    .join(' and ');
  return `# The node agent's configuration for this run (${what}), written by otel-harness from ${options.shipped ? 'stacks/phase1/agent.yaml' : 'your --collector-config agent=FILE'}.\n${stringify(c)}`;
}

/**
 * Seed 003's node collector as a container: the collector image with the agent configuration for what it
 * does in the run — the pods' log directory (a host directory the harness writes) mounted read-only, its read
 * offsets on a volume of its own; the harness's scrape targets in its prometheus receiver. It forwards to
 * `otel-collector:4317` (stacks/phase1/agent.yaml): the collector in Phase 1, HAProxy before the gateways in
 * Phase 2.
 */
export function agentService(
  catalog: Catalog,
  agent: {
    /** `--log-source file`: the host directory mounted as its /var/log/pods. */
    hostDir?: string;
    /** A user's agent configuration (YAML text); `template` (stacks/phase1/agent.yaml) when absent. */
    config?: string;
    template: string;
    /** `--scraper agent`: the targets its prometheus receiver scrapes. */
    scrapeTargets?: readonly string[] | undefined;
    dependsOn: string[];
  },
): ServiceDefinition {
  const otelcol = component(catalog, 'otelcol');
  const base = agent.config ?? renderTemplate(agent.template, {}, 'stacks/phase1/agent.yaml');
  const content = agentConfigFor(base, {
    shipped: agent.config === undefined,
    files: agent.hostDir !== undefined,
    ...(agent.scrapeTargets === undefined ? {} : { scrapeTargets: agent.scrapeTargets }),
  });
  if (content === undefined)
    throw new Error('the agent configuration has no prometheus receiver in a metrics pipeline to scrape the targets');
  return {
    name: AGENT_SERVICE,
    component: 'otelcol',
    aliases: ['otel-node-collector'],
    env: { GOMEMLIMIT: '400MiB' },
    files: [{ target: configPath(otelcol), content }],
    volumes: [{ name: 'agent-storage', target: '/var/lib/otelcol', owner: ownerOf(otelcol) }],
    hostMounts: agent.hostDir === undefined ? [] : [{ source: agent.hostDir, target: AGENT_LOG_ROOT, readOnly: true }],
    ports: [
      { container: 8888, label: 'Agent metrics', scheme: 'http', path: '/metrics' },
      { container: 13133, label: 'Agent health', scheme: 'http', path: '/health' },
    ],
    readiness: { port: 13133, path: '/health', timeoutMs: READY_TIMEOUT_MS.collector },
    resources: { memoryGiB: 0.5, cpu: 1 },
    dependsOn: agent.dependsOn,
  };
}
