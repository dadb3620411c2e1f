import type { AgentReadWatch } from '../observe/agent-read-watch.js';
import { oneSignalState, type DrainCondition, type DrainState, type SignalDrainState } from './drain.js';

/** How long the read count stands still, once it reached the lines written, before the agent counts as done. */
const QUIET_MS = 2_000;

/** What the writer of the container log files has done: lines written, and lines in files it deleted since. */
export interface WrittenLines {
  lines: number;
  /** Lines in rotated files deleted since: the agent cannot read those it had not opened before. */
  linesDeleted: number;
}

/**
 * An agent that reads container log files has read every line written to them: the records its file
 * receivers emitted reach the lines written (the count is the agent's own, from its start, restarts
 * joined) and stand still for a moment (the count includes lines of other containers' files it reads).
 * Until then the unread lines are what the agent still holds — shown as queued, never called lost while it
 * reads. Lines it will not read end the wait only when its read count stood still for `idleMs`
 * with no file open for reading: a file rotated away before it opened it, or lines it skipped after a restart
 * without its offsets. A restart between two readings hides what it read just before: its count is then a
 * lower bound, and only the backend's census says which lines arrived. An agent that sends on its own
 * (Promtail) is done once it also sent, or dropped, every line it read: what it holds shows as queued.
 */
export function fileReadCondition(options: {
  /** The agent's name in the stack (e.g. 'otel-agent'). */
  name: string;
  watch: AgentReadWatch;
  written: () => WrittenLines;
  idleMs: number;
  pollMs: number;
  now?: () => number;
}): DrainCondition {
  const now = options.now ?? Date.now;
  let lastMove: { movement: string; at: number } | undefined;

  return {
    name: `${options.name} (log files)`,
    pollMs: options.pollMs,
    async check(): Promise<DrainState> {
      await options.watch.poll();
      const read = options.watch.read();
      const written = options.written();
      const t = now();
      if (read === undefined) {
        const state: SignalDrainState = {
          idle: false,
          queued: [],
          unobservable: `${options.name} exposes no read counters (a filelog receiver's, or Promtail's): how far it read cannot be seen`,
          movement: 'unobservable',
        };
        return oneSignalState('logs', state, `${options.name}: read position not observable`);
      }
      const passed = read.passedOn;
      // An agent that sends on its own (Promtail) still holds what it read and neither sent nor dropped.
      const held = passed === undefined ? 0 : read.lines - passed.sent - passed.dropped - passed.filtered;
      const movement = `${read.lines}/${read.restarts}${passed === undefined ? '' : `/${passed.sent}/${passed.dropped}/${passed.retries}`}`;
      const delivered = passed?.sent ?? read.lines;
      if (lastMove === undefined || lastMove.movement !== movement) lastMove = { movement, at: t };
      const unread = written.lines - read.lines;
      const stillMs = t - lastMove.at;
      // Lines of other containers on the node count too: read ≥ written says nothing until the count also
      // stands still (an agent with lines left to read reads on at each poll).
      if (unread <= 0 && held <= 0 && stillMs >= QUIET_MS)
        return oneSignalState(
          'logs',
          { idle: true, queued: [], movement, delivered },
          `${options.name}: read ${read.lines} lines of ${written.lines} written${unread < 0 ? ` (${-unread} more: lines read again, or lines of other containers)` : ''}${passed === undefined ? '' : `, sent ${passed.sent}`}`,
        );
      if (unread <= 0 && held > 0) {
        // It sends or drops each entry in the end (its retries back off up to minutes apart): held entries are
        // waited for. Only after a restart is the count no longer exact (what it held when killed is gone, or
        // read again), so standing still then ends the wait.
        if (read.restarts > 0 && stillMs >= options.idleMs)
          return oneSignalState(
            'logs',
            { idle: true, queued: [], movement, delivered },
            `${options.name}: ${held} of the ${read.lines} lines it read neither sent nor dropped, across ${read.restarts} restart(s); nothing sent for ${Math.round(stillMs / 1000)} s`,
          );
        return oneSignalState(
          'logs',
          {
            idle: false,
            queued: [
              {
                component: options.name,
                queue: 'client batches (read, not sent yet)',
                size: held,
                unit: 'items',
                signal: 'logs',
                maxItems: held,
              },
            ],
            movement,
            delivered,
          },
          `${options.name}: ${held} lines read and not sent yet${passed!.retries > 0 ? ` (${passed!.retries} batch retries so far)` : ''}`,
        );
      }
      if (stillMs >= options.idleMs && (read.readingFiles ?? 0) === 0) {
        const why =
          read.restarts > 0
            ? `it restarted ${read.restarts}× (what it read just before a restart is not counted)`
            : unread <= written.linesDeleted
              ? 'no more than the rotation deleted'
              : 'no file open for reading';
        return oneSignalState(
          'logs',
          { idle: true, queued: [], movement, delivered },
          `${options.name}: ${unread} of ${written.lines} lines not counted as read, ${why}; nothing read for ${Math.round(stillMs / 1000)} s`,
        );
      }
      if (unread <= 0)
        return oneSignalState(
          'logs',
          { idle: false, queued: [], movement, delivered },
          `${options.name}: read ${read.lines} lines of ${written.lines} written, still reading`,
        );
      return oneSignalState(
        'logs',
        {
          idle: false,
          queued: [
            {
              component: options.name,
              queue: 'container log files (lines not read yet)',
              size: unread,
              unit: 'items',
              signal: 'logs',
              maxItems: unread,
            },
          ],
          movement,
          delivered,
        },
        `${options.name}: ${unread} of ${written.lines} lines not read yet`,
      );
    },
  };
}
