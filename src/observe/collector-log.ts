import type Dockerode from 'dockerode';

export interface LogDigestEntry {
  count: number;
  component: string;
  message: string;
  /** One full error text, as logged. */
  example: string;
}

/**
 * Groups a collector's JSON log lines that report trouble (level warn/error, or "Exporting failed" /
 * "Dropping data" at any level) by component, message and error text with numbers masked. Pure.
 */
export function digestCollectorLog(lines: readonly string[], limit = 10): LogDigestEntry[] {
  const groups = new Map<string, LogDigestEntry>();
  for (const line of lines) {
    const start = line.indexOf('{');
    if (start < 0) continue;
    let entry: { level?: string; msg?: string; error?: string; 'otelcol.component.id'?: string };
    try {
      entry = JSON.parse(line.slice(start)) as typeof entry;
    } catch {
      continue;
    }
    const msg = entry.msg ?? '';
    const trouble = entry.level === 'error' || /Exporting failed|Dropping data|dropped/i.test(msg);
    if (!trouble) continue;
    const component = entry['otelcol.component.id'] ?? '';
    const error = entry.error ?? '';
    const key = `${component}\0${msg}\0${error.replace(/\d+(\.\d+)?/g, 'N')}`;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { count: 1, component, message: msg, example: error });
    else g.count++;
  }
  return [...groups.values()].sort((a, b) => b.count - a.count).slice(0, limit);
}

/** The container's log lines (stdout and stderr), demultiplexed. */
export async function containerLogLines(dockerode: Dockerode, containerId: string, tail = 20_000): Promise<string[]> {
  const container = dockerode.getContainer(containerId);
  const raw = await container.logs({ stdout: true, stderr: true, tail });
  // Docker multiplexes stdout/stderr in 8-byte-framed chunks when the container has no TTY.
  const lines: string[] = [];
  let offset = 0;
  let text = '';
  while (offset + 8 <= raw.length && (raw[offset] === 1 || raw[offset] === 2) && raw[offset + 1] === 0) {
    const size = raw.readUInt32BE(offset + 4);
    text += raw.subarray(offset + 8, offset + 8 + size).toString('utf8');
    offset += 8 + size;
  }
  if (offset === 0) text = raw.toString('utf8');
  for (const line of text.split('\n')) if (line.trim() !== '') lines.push(line);
  return lines;
}
