import { Kafka, logLevel, type Admin } from 'kafkajs';

/** One partition of a (group, topic): the log end, what the group committed, and the lag between them. */
export interface PartitionLag {
  group: string;
  topic: string;
  partition: number;
  /** Log end offset (the next offset to be written). */
  high: number;
  low: number;
  /** Committed offset (the next offset the group will read); -1 when the group committed nothing. */
  committed: number;
  lag: number;
}

/**
 * Lag per partition: log end − committed, or − the log start when the group committed nothing yet (it reads
 * from the earliest offset). Pure: kafkajs returns offsets as decimal strings.
 */
export function partitionLags(
  group: string,
  topic: string,
  ends: readonly { partition: number; high: string; low: string }[],
  commits: readonly { partition: number; offset: string }[],
): PartitionLag[] {
  const committed = new Map(commits.map((c) => [c.partition, Number(c.offset)]));
  return ends
    .map((e) => {
      const high = Number(e.high);
      const low = Number(e.low);
      const c = committed.get(e.partition) ?? -1;
      return {
        group,
        topic,
        partition: e.partition,
        high,
        low,
        committed: c,
        lag: Math.max(0, high - (c >= 0 ? c : low)),
      };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** Sum of lag per group and topic. */
export function lagTotals(lags: readonly PartitionLag[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lags) {
    const key = `${l.group}/${l.topic}`;
    out[key] = (out[key] ?? 0) + l.lag;
  }
  return out;
}

export interface ConsumerBinding {
  group: string;
  topic: string;
}

/**
 * Reads consumer-group lag with a read-only Kafka admin client: `fetchTopicOffsets` (log ends) and
 * `fetchOffsets` (commits) — never `resolveOffsets`, which would rewrite the group's commits.
 */
export class KafkaLagReader {
  private admin: Admin | undefined;

  constructor(
    private readonly brokers: readonly string[],
    private readonly bindings: readonly ConsumerBinding[],
  ) {}

  private async connect(): Promise<Admin> {
    if (this.admin !== undefined) return this.admin;
    const kafka = new Kafka({
      clientId: 'otel-harness-lag',
      brokers: [...this.brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 2, initialRetryTime: 200 },
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
    });
    const admin = kafka.admin();
    await admin.connect();
    this.admin = admin;
    return admin;
  }

  async read(): Promise<PartitionLag[]> {
    const admin = await this.connect();
    const out: PartitionLag[] = [];
    for (const b of this.bindings) {
      const [ends, commits] = await Promise.all([
        admin.fetchTopicOffsets(b.topic),
        admin.fetchOffsets({ groupId: b.group, topics: [b.topic] }),
      ]);
      const partitions = commits.find((c) => c.topic === b.topic)?.partitions ?? [];
      out.push(...partitionLags(b.group, b.topic, ends, partitions));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }
}
