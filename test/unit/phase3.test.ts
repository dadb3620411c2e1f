import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuMilli, loadSteps } from '../../src/stack/hpa/hpa-observer.js';
import { podChurn } from '../../src/step/load-step.js';
import { analyseHpa, describeHpa, scaleDecisions, type ReplicaReading } from '../../src/stack/hpa/hpa-timeline.js';
import { resourcePath } from '../../src/k8s/kube-client.js';
import { loadKubeconfig } from '../../src/k8s/kubeconfig.js';
import { localReplaceTargets } from '../../src/images/recipes/go-module.js';
import { mergeScrapes } from '../../src/stack/phase3/phase3-stack.js';
import { phase3PrometheusConfig } from '../../src/stack/phase3/definition.js';
import { parse as parseYaml } from 'yaml';
import { collectorManifests, DEFAULT_COLLECTOR_RESOURCES, SEED_HPA } from '../../src/stack/phase3/manifests.js';
import { parsePrometheusText } from '../../src/observe/prometheus-text.js';
import { PHASE_TOPOLOGIES, topologyNamed } from '../../src/stack/registry.js';
import { scratchDir } from '../support/scratch.js';

const spec = { minReplicas: 2, maxReplicas: 5, cpuTargetPct: 70, cpuRequestMilli: 20, scaleDownWindowSeconds: 60 };

/** Replica readings every second from `fromS` to `toS` with the given desired/current/ready. */
function hold(fromS: number, toS: number, desired: number, current: number, ready: number): ReplicaReading[] {
  const out: ReplicaReading[] = [];
  for (let t = fromS; t < toS; t++) out.push({ atMs: t * 1000, desired, current, ready });
  return out;
}

/** Cumulative acknowledged items at `rate(t)` items/s, one reading per second. */
function acksAt(rate: (s: number) => number, toS: number) {
  const out = [];
  let n = 0;
  for (let t = 0; t <= toS; t++) {
    out.push({ atMs: t * 1000, acknowledged: n });
    n += rate(t);
  }
  return out;
}

describe('HPA reaction analysis (recorded readings)', () => {
  // Two steps of 60 s: 1,000/s then 2,000/s. The HPA decides 2 → 3 at +75 s (15 s into step 2), the
  // third pod is ready at +82 s; after the load (at 120 s) it decides 3 → 2 at +181 s, back at min at +190 s.
  const readings = [
    ...hold(0, 75, 2, 2, 2),
    ...hold(75, 82, 3, 3, 2),
    ...hold(82, 181, 3, 3, 3),
    ...hold(181, 190, 2, 3, 3),
    ...hold(190, 200, 2, 2, 2),
  ];
  const steps = [
    { index: 0, startMs: 0, endMs: 60_000, rate: 1000 },
    { index: 1, startMs: 60_000, endMs: 120_000, rate: 2000 },
  ];
  // Step 2's acknowledgements lag until the third pod is ready (1,500/s), then keep up.
  const acks = acksAt((t) => (t < 60 ? 1000 : t < 82 ? 1500 : t < 120 ? 2000 : 0), 200);
  const cpu = [
    { atMs: 50_000, totalMilli: 23, pods: 2 },
    { atMs: 110_000, totalMilli: 31, pods: 3, minPodMilli: 6, maxPodMilli: 14 },
  ];

  it('finds the decisions from changes of desired replicas, with the event reason', () => {
    const d = scaleDecisions(readings, [{ atMs: 75_400, to: 3, message: 'New size: 3; reason: cpu above target' }]);
    expect(d).toEqual([
      { atMs: 75_000, from: 2, to: 3, reason: 'New size: 3; reason: cpu above target' },
      { atMs: 181_000, from: 3, to: 2, reason: undefined },
    ]);
  });

  it('times each step: decision, pods ready, acknowledged rate recovered; and the scale-down', () => {
    const a = analyseHpa({ steps, loadEndMs: 120_000, endMs: 200_000, readings, acks, cpu, spec });
    expect(a.steps[0]).toMatchObject({
      replicasAtStart: 2,
      decision: undefined,
      ackFellBehind: false,
      ackRecoveredSeconds: 0,
      plateauReady: 2,
      cpuCallsFor: 2, // ceil(23 / 14)
    });
    expect(a.steps[1]).toMatchObject({
      replicasAtStart: 2,
      decisionSeconds: 15,
      readySeconds: 22,
      ackFellBehind: true,
      plateauReady: 3,
      plateauDesired: 3,
      cpuCallsFor: 3, // ceil(31 / 14)
    });
    // The first 5-s window at ≥ 95 % of 2,000/s is [81 s, 86 s) (1,500 + 4 × 2,000 = 9,500 items):
    // recovered at its end, 26 s into the step.
    expect(a.steps[1]!.ackRecoveredSeconds).toBe(26);
    expect(a.scaleDown).toEqual({ decisionSeconds: 61, atMinSeconds: 70, replicasAtLoadEnd: 3, watchedSeconds: 80 });
    expect(a.peakReplicas).toBe(3);
    const lines = describeHpa(a, spec);
    expect(lines[1]).toContain('2 → 3 replicas decided at +15 s, ready at +22 s');
    expect(lines[1]).toContain('acknowledged rate recovered at +26 s');
    expect(lines[1]).toContain("(per pod 6–14m at the step's end)");
    expect(lines[2]).toContain('first decision 61 s after the load');
    expect(lines[2]).toContain('back at 2 replicas at 70 s');
  });

  it('says when no scale-down was seen within the watch, and when nothing needed it', () => {
    const stuck = [...hold(0, 120, 3, 3, 3), ...hold(120, 150, 3, 3, 3)];
    const a = analyseHpa({ steps, loadEndMs: 120_000, endMs: 150_000, readings: stuck, acks, cpu: [], spec });
    expect(a.scaleDown.decisionSeconds).toBeUndefined();
    expect(a.scaleDown.atMinSeconds).toBeUndefined();
    expect(describeHpa(a, spec).at(-1)).toContain('not observed within 30 s');
    const idle = analyseHpa({
      steps,
      loadEndMs: 120_000,
      endMs: 150_000,
      readings: hold(0, 150, 2, 2, 2),
      acks,
      cpu: [],
      spec,
    });
    expect(describeHpa(idle, spec).at(-1)).toContain('nothing to scale down');
    expect(idle.steps[1]!.cpuCallsFor).toBeUndefined();
  });

  it('a scale-up decided after the load ended is undone before the stack counts as back at its minimum', () => {
    // The load ends at 120 s at 2 replicas; the HPA, a CPU reading late, decides 2 → 4 at +125 s, then
    // 4 → 2 at +190 s; back at 2 ready at +195 s.
    const late = [
      ...hold(0, 125, 2, 2, 2),
      ...hold(125, 130, 4, 4, 2),
      ...hold(130, 190, 4, 4, 4),
      ...hold(190, 195, 2, 4, 4),
      ...hold(195, 210, 2, 2, 2),
    ];
    const a = analyseHpa({ steps, loadEndMs: 120_000, endMs: 210_000, readings: late, acks, cpu, spec });
    expect(a.scaleDown).toEqual({ decisionSeconds: 70, atMinSeconds: 75, replicasAtLoadEnd: 2, watchedSeconds: 90 });
    expect(a.peakReplicas).toBe(4);
  });

  it('a step whose acknowledged rate never recovers is reported as such', () => {
    const slow = acksAt((t) => (t < 60 ? 1000 : 1200), 130);
    const a = analyseHpa({ steps, loadEndMs: 120_000, endMs: 130_000, readings, acks: slow, cpu, spec });
    expect(a.steps[1]!.ackFellBehind).toBe(true);
    expect(a.steps[1]!.ackRecoveredSeconds).toBeUndefined();
    expect(describeHpa(a, spec)[1]).toContain('did not recover within the step');
  });

  it('cuts a steps profile into its steps; CPU quantities in millicores', () => {
    const load = {
      profile: { kind: 'steps' as const, steps: 4 },
      rate: 4000,
      durationMs: 480_000,
      acknowledged: () => 0,
    };
    expect(loadSteps(load).map((s) => [s.startMs, s.endMs, s.rate])).toEqual([
      [0, 120_000, 1000],
      [120_000, 240_000, 2000],
      [240_000, 360_000, 3000],
      [360_000, 480_000, 4000],
    ]);
    expect(cpuMilli('250m')).toBe(250);
    expect(cpuMilli('1')).toBe(1000);
    expect(cpuMilli('15123456n')).toBeCloseTo(15.123, 3);
    expect(cpuMilli(undefined)).toBeUndefined();
  });
});

describe('kubeconfig and API paths', () => {
  const dir = scratchDir('oh-kubeconfig-');
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  it('reads the current context: server, CA, client certificate, token file', () => {
    writeFileSync(join(dir, 'token'), 'abc\n');
    const path = join(dir, 'config');
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'current-context: a',
        'contexts:',
        '- { name: a, context: { cluster: c1, user: u1 } }',
        '- { name: b, context: { cluster: c1, user: u2 } }',
        'clusters:',
        `- { name: c1, cluster: { server: "https://127.0.0.1:6443/", certificate-authority-data: ${b64('CA')} } }`,
        'users:',
        `- { name: u1, user: { client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')} } }`,
        '- { name: u2, user: { tokenFile: token } }',
      ].join('\n'),
    );
    expect(loadKubeconfig(path)).toEqual({
      server: 'https://127.0.0.1:6443',
      context: 'a',
      ca: 'CA',
      cert: 'CERT',
      key: 'KEY',
      insecureSkipTlsVerify: false,
    });
    expect(loadKubeconfig(path, { context: 'b' }).token).toBe('abc');
  });

  it('refuses what it cannot use, naming it', () => {
    expect(() => loadKubeconfig(join(dir, 'missing'))).toThrow(/no such file/);
    const exec = join(dir, 'exec');
    writeFileSync(
      exec,
      'current-context: a\ncontexts: [{ name: a, context: { cluster: c, user: u } }]\nclusters: [{ name: c, cluster: { server: https://x } }]\nusers: [{ name: u, user: { exec: { command: aws } } }]\n',
    );
    expect(() => loadKubeconfig(exec)).toThrow(/exec plugin/);
    expect(() => loadKubeconfig(exec, { context: 'zz' })).toThrow(/no context 'zz'/);
  });

  it('builds resource paths for the kinds the harness applies', () => {
    expect(resourcePath('autoscaling/v2', 'HorizontalPodAutoscaler', 'observability', 'h')).toBe(
      '/apis/autoscaling/v2/namespaces/observability/horizontalpodautoscalers/h',
    );
    expect(resourcePath('v1', 'Namespace', undefined, 'observability')).toBe('/api/v1/namespaces/observability');
    expect(() => resourcePath('v1', 'Pod', undefined, 'p')).toThrow(/needs a namespace/);
    expect(() => resourcePath('example.com/v1', 'Widget', 'n')).toThrow(/does not know/);
  });
});

describe('Phase 3 pieces', () => {
  it('is the topology of --phase 3', () => {
    expect(PHASE_TOPOLOGIES['3']).toBe('phase3');
    expect(topologyNamed('phase3').collectorRoles).toEqual(['collector']);
  });

  it("finds k8s.io/kubernetes' local replaces (the staging modules module zips leave out)", () => {
    const goMod = [
      'module k8s.io/kubernetes',
      'replace (',
      '\tk8s.io/api => ./staging/src/k8s.io/api',
      '\tk8s.io/client-go v0.0.0 => ./staging/src/k8s.io/client-go',
      '\tgithub.com/x/y => github.com/x/y v1.2.3',
      ')',
      'replace k8s.io/kubelet => ../kubelet',
    ].join('\n');
    expect(localReplaceTargets(goMod)).toEqual(['k8s.io/api', 'k8s.io/client-go', 'k8s.io/kubelet']);
  });

  it("renders Prometheus's out-of-order window only when one is asked for (--prometheus-ooo-window)", () => {
    const values = { 'traces.backend': 'tempo', 'traces.metricsTarget': 'tempo:3200' };
    const seed = parseYaml(phase3PrometheusConfig(0, values)) as Record<string, unknown>;
    expect(seed.storage).toBeUndefined();
    expect(seed.scrape_configs).toBeDefined();
    const widened = parseYaml(phase3PrometheusConfig(1800, values)) as Record<string, unknown>;
    expect(widened.storage).toEqual({ tsdb: { out_of_order_time_window: '1800s' } });
    expect(widened.scrape_configs).toEqual(seed.scrape_configs);
    const flag = topologyNamed('phase3').options.options.find((o) => o.flag === 'prometheus-ooo-window')!;
    expect(flag.default).toBe('0s');
    expect(flag.parse('30m', '--prometheus-ooo-window')).toBe(1_800_000);
    expect(flag.parse('0s', '--prometheus-ooo-window')).toBe(0);
  });

  it('renders the collector with the seeds’ HPA, requests on every container, backends as host aliases', () => {
    const objects = collectorManifests({
      image: 'docker.io/otel-harness/otelcol:0.158.0',
      config: 'receivers: {}',
      hpa: SEED_HPA,
      resources: DEFAULT_COLLECTOR_RESOURCES,
      hostAliases: { tempo: '172.18.0.2', loki: '172.18.0.3', prometheus: '172.18.0.3' },
      terminationGraceSeconds: 60,
      runId: 'r1',
    });
    expect(objects.map((o) => o.kind)).toEqual([
      'Namespace',
      'ConfigMap',
      'Deployment',
      'Service',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
    ]);
    const hpa = objects[4] as unknown as { spec: Record<string, unknown> };
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 5 });
    expect(JSON.stringify(hpa.spec)).toContain('"averageUtilization":70');
    expect(JSON.stringify(hpa.spec)).toContain('"stabilizationWindowSeconds":300');
    const pod = (objects[2] as unknown as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec;
    expect(pod.hostAliases).toEqual([
      { ip: '172.18.0.2', hostnames: ['tempo'] },
      { ip: '172.18.0.3', hostnames: ['loki', 'prometheus'] },
    ]);
    const container = (
      pod.containers as { resources: { requests: Record<string, string> }; imagePullPolicy: string }[]
    )[0]!;
    expect(container.resources.requests).toEqual({ cpu: '20m', memory: '512Mi' });
    expect(container.imagePullPolicy).toBe('Never');
  });

  it("merges the pods' self-metrics into one exposition, each sample labelled with its pod", () => {
    const text = mergeScrapes([
      { pod: 'a', samples: parsePrometheusText('otelcol_exporter_queue_size{exporter="x"} 3\n') },
      { pod: 'b', samples: parsePrometheusText('# HELP q\notelcol_exporter_queue_size{exporter="x"} 4\n') },
    ]);
    const samples = parsePrometheusText(text);
    expect(samples).toEqual([
      { name: 'otelcol_exporter_queue_size', labels: { exporter: 'x', k8s_pod: 'a' }, value: 3 },
      { name: 'otelcol_exporter_queue_size', labels: { exporter: 'x', k8s_pod: 'b' }, value: 4 },
    ]);
  });
});

describe('pods that came and went', () => {
  const hpa = (started: number, terminated: number) => ({
    name: 'hpa',
    title: 'Kubernetes HPA observability/otel-collector-hpa',
    lines: [],
    figures: { podsStarted: started, podsTerminated: terminated, peakReplicas: 4 },
    series: [],
  });
  it('make the collectors’ sent counters no census, even when the same pods are there before and after', () => {
    expect(podChurn([hpa(2, 2)])).toBe(
      "Kubernetes HPA observability/otel-collector-hpa: 2 pods started and 2 terminated during the run (a removed pod's counters go with it)",
    );
    expect(podChurn([hpa(0, 0)])).toBeUndefined();
    expect(
      podChurn([{ name: 'kafka-lag', title: 'Kafka consumer lag', lines: [], figures: { peak: 3 }, series: [] }]),
    ).toBeUndefined();
  });
});
