import { Kafka, logLevel, type Admin } from 'kafkajs';
import { retryUntil } from '../../time/retry-until.js';
import { ReadinessError } from '../docker/http-readiness.js';

/** A topic of the Phase 2 pipeline: one per signal, as seed 002 lays them out. */
export interface TopicSpec {
  name: string;
  partitions: number;
  retentionMs: number;
}

/** A consumer group the stack runs, and how many members it must have once stable. */
export interface GroupSpec {
  group: string;
  topic: string;
  members: number;
}

/** A read-only-by-default admin client for the harness's own Kafka (127.0.0.1:<external port>). */
export function kafkaAdmin(brokers: readonly string[], clientId = 'otel-harness'): Admin {
  return new Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 1, initialRetryTime: 200 },
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
  }).admin();
}

async function withAdmin<T>(brokers: readonly string[], use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaAdmin(brokers);
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Creates the topics (auto-creation is off on the broker, so a misspelt topic fails loudly) and waits until
 * every partition has a leader. Retries while the broker is still starting; times out with a
 * ReadinessError naming what it waited for.
 */
export async function createTopics(
  brokers: readonly string[],
  topics: readonly TopicSpec[],
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<void> {
  const outcome = await retryUntil(
    () =>
      withAdmin(brokers, async (admin) => {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t.name));
        if (missing.length > 0) {
          await admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((t) => ({
              topic: t.name,
              numPartitions: t.partitions,
              replicationFactor: 1,
              configEntries: [{ name: 'retention.ms', value: String(t.retentionMs) }],
            })),
          });
        }
        const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) });
        return topics.every((t) => {
          const m = metadata.topics.find((x) => x.name === t.name);
          return m !== undefined && m.partitions.length === t.partitions && m.partitions.every((p) => p.leader >= 0);
        });
      }),
    (ok) => ok,
    {
      timeoutMs: options.timeoutMs,
      intervalMs: 1_000,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    },
  );
  if (outcome.status === 'done') return;
  throw new ReadinessError(
    `Kafka at ${brokers.join(', ')} to create ${topics.map((t) => `${t.name} (${t.partitions} partitions)`).join(', ')} with a leader for every partition`,
    outcome.elapsedMs,
    outcome.lastError === undefined
      ? 'topics without leaders'
      : String((outcome.lastError as Error).message ?? outcome.lastError),
  );
}

export interface GroupState {
  group: string;
  state: string;
  members: number;
}

/** The state and member count of each group (kafkajs describeGroups). */
export async function describeGroups(brokers: readonly string[], groups: readonly string[]): Promise<GroupState[]> {
  return withAdmin(brokers, async (admin) => {
    const answer = await admin.describeGroups([...groups]);
    return answer.groups.map((g) => ({ group: g.groupId, state: g.state, members: g.members.length }));
  });
}

/**
 * Waits until every consumer group is Stable with its expected members: before then, partitions move
 * between processors and a trace split by the move is decided twice on partial data.
 */
export async function waitForGroups(
  brokers: readonly string[],
  groups: readonly GroupSpec[],
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<number> {
  const outcome = await retryUntil(
    () =>
      describeGroups(
        brokers,
        groups.map((g) => g.group),
      ),
    (states) =>
      groups.every((g) => states.some((s) => s.group === g.group && s.state === 'Stable' && s.members === g.members)),
    {
      timeoutMs: options.timeoutMs,
      intervalMs: 1_000,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    },
  );
  if (outcome.status === 'done') return outcome.elapsedMs;
  const seen = (outcome.last ?? []).map((s) => `${s.group} ${s.state} with ${s.members} member(s)`).join(', ');
  throw new ReadinessError(
    `consumer groups ${groups.map((g) => `${g.group} (${g.members} members)`).join(', ')} to be Stable`,
    outcome.elapsedMs,
    seen === '' ? String((outcome.lastError as Error | undefined)?.message ?? 'no answer') : seen,
  );
}
