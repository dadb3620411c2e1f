/**
 * junit.xml for CI systems: one test suite per run, one test case per verdict line (each signal's loss,
 * rejection, rate and latency threshold; each capacity finding). A failed case carries `<failure>`, an
 * undecidable one `<failure type="inconclusive">`, a run that could not finish one `<error>`.
 */

export interface JunitCase {
  name: string;
  /** Grouping shown by CI systems, e.g. `otel-harness.soak.traces`. */
  classname: string;
  seconds?: number;
  failure?: { message: string; type: 'failure' | 'inconclusive'; detail?: string };
  error?: { message: string; detail?: string };
}

export interface JunitSuite {
  name: string;
  timestamp: string;
  seconds: number;
  cases: JunitCase[];
  properties?: Record<string, string>;
}

export function escapeXml(s: string): string {
  // Characters XML 1.0 forbids are dropped; the five specials escaped.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[<>&"']/g, (c) => {
    switch (c) {
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '&':
        return '&amp;';
      case '"':
        return '&quot;';
      default:
        return '&apos;';
    }
  });
}

export function renderJunit(suite: JunitSuite): string {
  const failures = suite.cases.filter((c) => c.failure !== undefined).length;
  const errors = suite.cases.filter((c) => c.error !== undefined).length;
  const a = (name: string, value: string | number) => ` ${name}="${escapeXml(String(value))}"`;
  const seconds = (s: number) => s.toFixed(3);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${a('name', 'otel-harness')}${a('tests', suite.cases.length)}${a('failures', failures)}${a('errors', errors)}${a('time', seconds(suite.seconds))}>`,
    `  <testsuite${a('name', suite.name)}${a('tests', suite.cases.length)}${a('failures', failures)}${a('errors', errors)}${a('skipped', 0)}${a('time', seconds(suite.seconds))}${a('timestamp', suite.timestamp.replace(/\.\d+Z$/, ''))}>`,
  ];
  const properties = Object.entries(suite.properties ?? {});
  if (properties.length > 0) {
    lines.push('    <properties>');
    for (const [k, v] of properties) lines.push(`      <property${a('name', k)}${a('value', v)}/>`);
    lines.push('    </properties>');
  }
  for (const c of suite.cases) {
    const open = `    <testcase${a('name', c.name)}${a('classname', c.classname)}${a('time', seconds(c.seconds ?? 0))}`;
    if (c.failure === undefined && c.error === undefined) {
      lines.push(`${open}/>`);
      continue;
    }
    lines.push(`${open}>`);
    if (c.failure !== undefined)
      lines.push(
        `      <failure${a('message', c.failure.message)}${a('type', c.failure.type)}>${escapeXml(c.failure.detail ?? c.failure.message)}</failure>`,
      );
    if (c.error !== undefined)
      lines.push(
        `      <error${a('message', c.error.message)}${a('type', 'error')}>${escapeXml(c.error.detail ?? c.error.message)}</error>`,
      );
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

/** A soak's, chaos run's or verification's cases: one per threshold, plus an error case if the run failed. */
export function junitOfRun(result: {
  command: string;
  runId: string;
  startedAt: string;
  endedAt: string;
  thresholds: { name: string; limit: string; actual: string; pass: boolean; inconclusive?: boolean }[];
  verdict: { status: string; reasons: string[] };
  plan: { topology: string };
}): string {
  const cases: JunitCase[] = result.thresholds.map((t) => {
    const group = /^(traces|metrics|logs)\b/.exec(t.name)?.[1] ?? 'run';
    const message = `${t.actual} (limit ${t.limit})`;
    return {
      name: t.name,
      classname: `otel-harness.${result.command}.${group}`,
      ...(t.pass ? {} : { failure: { message, type: t.inconclusive === true ? 'inconclusive' : 'failure' } }),
    };
  });
  if (result.verdict.status === 'error' || result.verdict.status === 'interrupted') {
    cases.push({
      name: result.verdict.status === 'error' ? 'the run finished' : 'the run was not interrupted',
      classname: `otel-harness.${result.command}.run`,
      error: { message: result.verdict.reasons[0] ?? result.verdict.status, detail: result.verdict.reasons.join('\n') },
    });
  }
  return renderJunit({
    name: `${result.command} ${result.runId}`,
    timestamp: result.startedAt,
    seconds: (Date.parse(result.endedAt) - Date.parse(result.startedAt)) / 1000,
    properties: { runId: result.runId, topology: result.plan.topology, verdict: result.verdict.status },
    cases,
  });
}
