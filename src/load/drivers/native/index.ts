import { Histogram } from '../../../stats/histogram.js';
import type { SchedulerReport } from '../../open-model-scheduler.js';
import type { ScrapeReport } from '../../scrape/scrape-targets.js';
import { inProcessDriver, type DriveInput, type DriveOutcome, type LoadDriver } from '../driver.js';
import { driveNative } from './native-driver.js';
import { loadsOf } from './signal-loads.js';

/**
 * The connections to open: `--connections` when given (keeping a stack's recycling of them, e.g. Phase 3's
 * spread over pods behind a Service), else the stack's own, else the driver's default.
 */
function connectionsOf(
  asked: number | undefined,
  stack: { connections: number; requestsPerConnection: number } | undefined,
): { connections?: { connections: number; requestsPerConnection?: number } } {
  if (asked !== undefined) return { connections: { ...stack, connections: asked } };
  return stack === undefined ? {} : { connections: stack };
}

/** The native driver: pre-built OTLP protobuf over HTTP or gRPC on the open-model schedule (the fast path). */
export function nativeDriver(): LoadDriver {
  return inProcessDriver('native', async (input: DriveInput): Promise<DriveOutcome> => {
    const { spec } = input;
    const targets = input.ingest.scrapeTargets;
    const scraped = targets !== undefined && spec.signals.some((s) => s.signal === 'metrics');
    const startMs = Date.now();
    if (scraped)
      targets.arm({
        runId: input.runId,
        shape: spec.metricShape,
        timeline: input.metricTimeline,
        ledger: input.ledger,
        live: input.live,
        startMs,
      });
    const pushed = loadsOf(spec, input.runId, input.metricTimeline, input.ingest.logFiles).filter(
      (l) => !(scraped && l.signal === 'metrics'),
    );
    const reports = await driveNative(pushed, input.ledger, input.live, {
      endpoint: input.ingest.otlpHttp,
      grpcEndpoint: input.ingest.otlpGrpc,
      transport: spec.transport,
      headers: input.ingest.headers,
      ...(input.ingest.tls === undefined ? {} : { tls: input.ingest.tls }),
      ...connectionsOf(spec.connections, input.ingest.connections),
      profile: spec.profile,
      durationMs: spec.durationMs,
      maxInFlight: spec.maxInFlight,
      timeoutMs: spec.requestTimeoutMs,
      signal: input.abort,
    });
    if (scraped) {
      // The scraper takes the series on its own schedule until the load's end.
      await sleepUntil(startMs + spec.durationMs, input.abort);
      const served = targets.disarm(Date.now());
      if (served !== undefined) {
        input.progress(
          `scrape targets: ${served.samplesServed} samples served in ${served.scrapesWithNewTick} scrapes with a new tick (${served.scrapes} scrapes); ${served.ticksMissed} of ${served.ticksDue} target ticks never scraped; a tick first scraped ${served.serveLagMs.p50} ms after it came due (p50), ${served.serveLagMs.p99} ms (p99)`,
        );
        reports.set('metrics', scrapeReport(served, spec.metricShape.series / served.targets, Date.now() - startMs));
      }
    }
    return { reports };
  });
}

function sleepUntil(atMs: number, abort: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, atMs - Date.now()));
    abort.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * The scrape targets' load as a schedule report: ticks due are offered, ticks never scraped dropped, over the
 * load's whole window. The generator issues nothing on a schedule — it answers each scrape at once — so its
 * schedule lag is none; how late the scraper came for each tick is said in the progress line.
 */
function scrapeReport(served: ScrapeReport, seriesPerTarget: number, elapsedMs: number): SchedulerReport {
  const offered = Math.round(served.ticksDue * seriesPerTarget);
  return {
    offeredUnits: offered,
    sentUnits: served.samplesServed,
    droppedUnits: Math.max(0, offered - served.samplesServed),
    issueElapsedMs: elapsedMs,
    scheduleLagMs: new Histogram().percentiles(),
    interrupted: false,
  };
}
