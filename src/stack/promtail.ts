import { parse } from 'yaml';
import type { Catalog } from '../images/catalog-types.js';
import { AGENT_LOG_ROOT } from './agent-config.js';
import { renderTemplate } from './docker/render-config.js';
import { component, configPath, ownerOf, READY_TIMEOUT_MS } from './docker/services.js';
import type { ServiceDefinition } from './docker/stack-definition.js';
import { globRegExp } from './glob.js';

/** Promtail's service name beside a Docker stack (`--log-agent promtail`), and its metrics port. */
export const PROMTAIL_SERVICE = 'promtail';
export const PROMTAIL_METRICS_PORT = 9080;

/**
 * Seed 004's log agent as a container: Promtail with stacks/phase1/promtail.yaml (or a user's configuration),
 * the pods' log directory (a host directory the harness writes) mounted read-only as its /var/log/pods, its
 * positions file on a volume of its own. It pushes to `loki:3100` itself: no collector on the logs' path.
 */
export function promtailService(
  catalog: Catalog,
  agent: {
    hostDir: string;
    /** A user's Promtail configuration (YAML text); `template` (stacks/phase1/promtail.yaml) when absent. */
    config?: string;
    template: string;
    dependsOn: string[];
  },
): ServiceDefinition {
  const promtail = component(catalog, 'promtail');
  return {
    name: PROMTAIL_SERVICE,
    component: 'promtail',
    aliases: ['promtail'],
    env: {},
    files: [
      {
        target: configPath(promtail),
        content: agent.config ?? renderTemplate(agent.template, {}, 'stacks/phase1/promtail.yaml'),
      },
    ],
    volumes: [{ name: 'promtail-positions', target: '/run/promtail', owner: ownerOf(promtail) }],
    hostMounts: [{ source: agent.hostDir, target: AGENT_LOG_ROOT, readOnly: true }],
    ports: [{ container: PROMTAIL_METRICS_PORT, label: 'Promtail metrics', scheme: 'http', path: '/metrics' }],
    // /ready waits for a file target to be tailing: the harness's files appear only with the load.
    readiness: { port: PROMTAIL_METRICS_PORT, path: '/metrics', timeoutMs: READY_TIMEOUT_MS.collector },
    // The seed's limits: 200m CPU, 256Mi.
    resources: { memoryGiB: 0.25, cpu: 0.2 },
    dependsOn: agent.dependsOn,
  };
}

interface PromtailYaml {
  scrape_configs?: {
    job_name?: string;
    static_configs?: { labels?: Record<string, unknown> }[];
    kubernetes_sd_configs?: unknown[];
  }[];
}

/**
 * Why a Promtail configuration reads no line the harness writes to `path` (as Promtail sees it), or undefined
 * when a static config's `__path__` glob matches it and its `__path_exclude__` does not. A configuration that
 * finds its files through Kubernetes discovery cannot run beside a Docker stack.
 */
export function promtailReadsNot(config: string, path: string): string | undefined {
  let raw: PromtailYaml;
  try {
    raw = (parse(config) as PromtailYaml | null) ?? {};
  } catch (err) {
    return `it is not YAML (${(err as Error).message.split('\n')[0]})`;
  }
  const seen: string[] = [];
  for (const job of raw.scrape_configs ?? []) {
    for (const sc of job.static_configs ?? []) {
      const glob = sc.labels?.__path__;
      const exclude = sc.labels?.__path_exclude__;
      if (typeof glob !== 'string') continue;
      seen.push(
        `${job.job_name ?? 'a job'} reads ${glob}${typeof exclude === 'string' ? ` excluding ${exclude}` : ''}`,
      );
      if (globRegExp(glob).test(path) && !(typeof exclude === 'string' && globRegExp(exclude).test(path)))
        return undefined;
    }
  }
  if (seen.length === 0)
    return `no scrape config has a static_configs entry with a __path__ label (Kubernetes discovery needs a cluster: beside a Docker stack Promtail finds files by __path__ globs)`;
  return `its scrape configs do not read ${path}, where the harness writes the logs: ${seen.join('; ')}`;
}
