import { FAULTS } from '../chaos/faults/registry.js';
import { envName, type OptionTable } from '../options/option-table.js';
import { helpRows } from '../options/resolve.js';
import { SOAK_OPTIONS } from '../soak/soak-options.js';
import { CAPACITY_OPTIONS, SEARCH_OWNED_FLAGS } from '../capacity/capacity-options.js';
import { GATE_OPTIONS } from '../gate/gate-options.js';
import { TOPOLOGIES } from '../stack/registry.js';
import { PORTS_OPTION, STACK_OPTIONS } from '../stack/stack-options.js';
import { ATTACH_OPTIONS } from '../stack/attach/index.js';
import { GATE_REFUSED_FLAGS, VERIFY_OPTIONS } from './parse-args.js';

function section(table: OptionTable): string {
  return `${table.title[0]!.toUpperCase()}${table.title.slice(1)}:\n${helpRows(table).join('\n')}`;
}

/** The stack options and every topology's own, from their tables (defaults live there only). */
function stackHelp(topologies = TOPOLOGIES): string {
  return [
    section(STACK_OPTIONS),
    ...topologies.map((t) => section({ ...t.options, title: `${t.title} options` })),
  ].join('\n\n');
}

/** The soak's load options a command takes (all but those it sets or refuses itself). */
function loadHelp(refused: readonly string[]): string {
  return section({
    ...SOAK_OPTIONS,
    title: 'load options (as for soak)',
    options: SOAK_OPTIONS.options.filter((o) => !refused.includes(o.flag)),
  });
}

const EXIT_CODES = `Exit codes:
  0    pass (for up: stopped with Ctrl-C after the stack was ready)
  1    internal error (a bug: please report it)
  2    usage or configuration error
  3    thresholds failed
  4    verification failed
  5    stack or image build failed (engine unreachable, container not ready, build error)
  6    gate inconclusive (more trials needed, the baseline lost data, or its knee was not found)
  130  interrupted (Ctrl-C or SIGTERM before the work finished)`;

function upHelp(): string {
  return `otel-harness up — boot a stack and keep it up until Ctrl-C

Usage: otel-harness up [options]

${stackHelp(TOPOLOGIES.filter((t) => t.capabilities.boots))}

${section(PORTS_OPTION)}
  --json                      print the endpoints as JSON on stdout (a --target file for soak)
  --print-spec                print the stack spec of these options (for --stack) and exit

Images (--source): local = built here (minutes per component the first time, then cached),
upstream = published images pulled by the engine, auto = local when present, else upstream.
Each option is also read from OTEL_HARNESS_<NAME>, e.g. ${envName('source')}.

Ctrl-C (or SIGTERM) removes every container, network and volume of the run.`;
}

function soakHelp(): string {
  return `otel-harness soak — hold a rate against a stack and prove what was and was not lost

Usage: otel-harness soak [options]        (npm run soak -- [options])

Boots a stack (--phase, --stack) or drives an existing one (--target, --otlp-endpoint), offers --rate
items/s on the open-model schedule for --duration, drains, then verifies every acknowledged item in the
backends: Jaeger by trace id (many per request), Tempo by TraceQL search cross-checked with its TraceQL
metrics count, Loki with LogQL counts per block, Prometheus with PromQL counts per series and tick.
Writes reports/<run id>/result.json, summary.md and ledger.json (for \`verify --run-id\`).

${section(SOAK_OPTIONS)}

${stackHelp()}

Each option is also read from OTEL_HARNESS_<NAME>, e.g. ${envName('drain-timeout')}; in attach mode the OTLP
endpoint and headers also from OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_HEADERS.

Exit: 0 pass, 2 bad option, 3 a rate or latency threshold failed, 4 loss above --max-loss or a verifier
could not conclude (inconclusive), 5 the stack did not start, 130 interrupted (partial result written).`;
}

function capacityHelp(): string {
  return `otel-harness capacity — the highest rate a stack holds with zero loss, who limits it, what it costs

Usage: otel-harness capacity [options]        (npm run capacity -- --phase 1 [--for-rate 25000])

Boots the stack once and searches the highest total rate (items/s, shared by --signals) at which every
acknowledged item arrives (NDR) and the SLOs hold: a short ramp doubling the rate brackets the knee, a
bisection with short trials narrows it to --precision, and a full-length trial confirms the lower end (a
failed confirmation moves the upper end down and the search goes on with full-length trials). Every trial
is drained and verified exactly, with its own run id. The answer is an interval, NDR ∈ [lower, upper], with
what limited the failing trial: a component of the stack, the load generator or this machine. --pdr also
searches the highest rate losing at most that share. Costs per component (CPU millicores and MiB per 1,000
items/s) are fitted over the passing trials; --for-rate sizes the stack for a target beside published
figures. Writes reports/<run id>/result.json, summary.md, junit.xml and report.html (self-contained).

${section(CAPACITY_OPTIONS)}

${loadHelp(SEARCH_OWNED_FLAGS)}

The search sets ${SEARCH_OWNED_FLAGS.map((f) => `--${f}`).join(', ')} itself and refuses them.

${stackHelp(TOPOLOGIES.filter((t) => t.capabilities.boots))}

Exit: 0 a knee was found (or every rate up to --to passed), 2 bad option, 3 the stack fails at the lower
end of the range or the trial budget ran out, 5 the stack did not start, 130 interrupted (the trials so far
are written).`;
}

function gateHelp(): string {
  return `otel-harness gate — baseline vs candidate stack: loss, CPU per item, memory, latency, with a statistical verdict

Usage: otel-harness gate --baseline A.yaml --candidate B.yaml [--trials 5|auto] [--rate R --duration D]
       (npm run gate -- --baseline stacks/gates/seed.yaml --candidate stacks/gates/hardened.yaml)

A and B are stack specs (\`up --print-spec\`: versions, collector config, OCB manifest); both are checked
before any stack starts (a collector configuration by the collector's own validate command, in the image
that will run it), and built when first needed. Trials run interleaved (A B, B A, …), each on a
fresh stack at the same load, every acknowledged item verified. Loss is a hard gate: a candidate trial
losing items of a signal no baseline trial lost fails the gate there, naming them. Per component CPU-seconds
per 1,000 items (the container's CPU counter across the load after --warmup) and peak RSS, and each signal's
canary p99, are compared with a one-sided Mann-Whitney U test (exact), Holm-corrected across the metrics
--gate-on picks (the others are reported, not gated), with the Hodges-Lehmann change and its interval.
--at-knee-fraction 0.5 replaces --rate: a capacity search finds the baseline's knee first (to 10 %) and
every trial runs at that fraction of it. A significant change below --tolerance is not a regression; a
change that is not significant counts as a pass only when its interval rules out a --detect regression —
otherwise the verdict is inconclusive with the trials per arm that would do at the noise measured (--trials
auto adds pairs up to --max-trials). Writes reports/<run id>/result.json, trials.json, summary.md,
junit.xml, benchmark.json (github-action-benchmark, customSmallerIsBetter) and report.html.

${section(GATE_OPTIONS)}

${loadHelp(GATE_REFUSED_FLAGS)}

${GATE_REFUSED_FLAGS.map((f) => `--${f}`).join(', ')} are refused: a gate compares the specs at a steady load,
with no faults and every item verified. The stacks come from the two specs, not from stack options.

Exit: 0 pass, 2 bad option or spec, 3 a metric regressed beyond --tolerance, 4 the candidate lost data the
baseline did not, 5 a stack did not start (twice), 6 inconclusive (more trials needed, or the baseline itself
loses data at this load, or its knee was not found), 130 interrupted (the trials so far are written).`;
}

function verifyHelp(): string {
  return `otel-harness verify — verify a finished run again, from the ledger its drivers wrote

Usage: otel-harness verify --run-id <run id> [--report-dir reports]

Reads reports/<run id>/ledger.json (written by soak and chaos runs), verifies every acknowledged item in
the backends the run used (they must still be up and hold the data), and writes reports/<run id>/verify/.

${section(VERIFY_OPTIONS)}

${section({ ...ATTACH_OPTIONS, title: 'where the backends are, without a ledger (attach mode options)' })}

Exit codes as for soak.`;
}

const DOWN = `otel-harness down — remove what the harness left running

Usage: otel-harness down [--run-id <run id>]

Removes every container, network and volume labelled io.otel-harness.run (of one run with --run-id).`;

const IMAGES = `otel-harness images — images of the real components, built here

Usage:
  otel-harness images build [component...] [--force] [--verbose]
  otel-harness images list [--json]

build   builds local images from the pinned catalog (stacks/catalog.yaml) with Go, the Collector
        Builder, Debian packages and Maven Central; no container registry needed. Cached by recipe
        hash: a second run takes seconds. --force rebuilds, --verbose shows the build tools' output. No component: all.
list    shows each component's version, local image, whether it is current, and its upstream image.`;

const MAIN = `otel-harness — load-testing and validation harness for self-hosted OpenTelemetry stacks

Usage: otel-harness <command> [options]

Commands:
  soak     hold a rate against a stack, drain, verify every acknowledged item, report
  chaos    a soak with faults (kill, restart, pause, partition, outage, throttle) and loss attribution
  capacity search the zero-loss knee (an interval, with who limited it), cost per 1k items/s, sizing
  gate     baseline vs candidate stack spec: loss, CPU per item, memory, latency; a statistical verdict
  up       boot a stack (Phase 1: collector, Jaeger or Tempo, Prometheus, Loki) until Ctrl-C
  down     remove every container, network and volume the harness left
  images   build or list the images of the real components
  k6       build k6, or render a k6-operator TestRun for distributed load
  help     this text, or \`help <command>\`

Run \`otel-harness <command> --help\` for the options of a command.

${EXIT_CODES}`;

const K6 = `otel-harness k6 — k6, built here, and k6-operator manifests

Usage:
  otel-harness k6 build [--k6 <path>]
  otel-harness k6 manifest --parallelism <n> [--scenario traces] [--rate 1000] [--duration 1m]
                           [--k6-endpoint http://otel-collector:4318] [--namespace default] [--name <name>]
                           [--image docker.io/grafana/k6:2.2.0] [--k6 <path>]

build     builds k6 with xk6 from the Go module proxy on first use (cached) and prints its path.
manifest  prints a ConfigMap (the scenario as a k6 archive) and a k6-operator TestRun that runs it on
          --parallelism runners against --k6-endpoint (as the runners reach the collector in the cluster):
            otel-harness k6 manifest --parallelism 4 --rate 20000 | kubectl apply -f -

Scenarios (scenarios/): traces, traces-ramping, logs, metrics, mixed, steps. To run one locally against a
stack: otel-harness soak --driver k6 --scenario <name>.`;

function chaosHelp(): string {
  return `otel-harness chaos — a soak with faults injected, and a no-data-loss verdict

Usage: otel-harness chaos --scenario <preset> [soak options]     (npm run chaos -- --phase 1 --scenario collector-kill)

Presets (stacks/chaos/): collector-kill, collector-restart, backend-outage, network-partition; for logs
read from files by a node agent (they set --log-source file): agent-kill, agent-restart, rotate-storm; for
metrics scraped by Prometheus (--metric-source scrape): prometheus-restart, scrape-target-restart; with
Prometheus remote-writing to Mimir (--remote-write mimir): mimir-outage. A preset brings its faults and
run defaults (duration, rate); soak options given on the command line win, e.g. --variant hardened,
--traces tempo, --duration 2m. Exit codes as for soak.

Faults can also be given to soak directly: --chaos 'kill:collector@60s,outage:loki@90s+20s' or
--chaos-file faults.yaml. Grammar: action:target@start[+duration][=value]
${Object.values(FAULTS)
  .map((f) => `  ${f.action.padEnd(10)} ${f.help}`)
  .join('\n')}
Targets: collector, jaeger or tempo (or: traces), prometheus, loki; agent with --log-source file, targets
(the harness's scrape targets: down = answering 503) with --metric-source scrape, mimir with --remote-write mimir.
Faults on one container may not overlap, and each must start before the load ends (otherwise exit 2).

The report lists each fault with when it started, was lifted and the service was ready again, the time
until the acknowledged rate was back to 95 % of offered, the collector queue's peak and drain, and every
lost or duplicated item attributed to a fault by its acknowledgement time, with a sentence on why.

Phase 2 presets (stacks/chaos/phase2/, with --phase 2): processor-kill, processor-restart, gateway-kill,
kafka-restart, backend-outage. --scenario names the preset here (for a k6 scenario under faults, use soak
--driver k6 --scenario <name> --chaos …).

${loadHelp(['scenario'])}

${stackHelp()}`;
}

const TOPICS: Record<string, () => string> = {
  chaos: chaosHelp,
  k6: () => K6,
  up: upHelp,
  verify: verifyHelp,
  down: () => DOWN,
  images: () => IMAGES,
  soak: soakHelp,
  capacity: capacityHelp,
  gate: gateHelp,
};

export function helpText(topic?: string): string {
  const render = topic === undefined ? undefined : TOPICS[topic];
  return (render === undefined ? MAIN : render()) + '\n';
}
