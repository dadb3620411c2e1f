import type { DockerEngine } from '../docker/docker-engine.js';
import { localImageRef } from './catalog.js';
import type { ComponentSpec } from './catalog-types.js';
import type { ImageBuilder, ImageProgress } from './image-builder.js';

export const IMAGE_SOURCES = ['auto', 'local', 'upstream'] as const;
export type ImageSource = (typeof IMAGE_SOURCES)[number];

/** What each source does, in one line (the first line of a run says it). */
export const IMAGE_SOURCE_TEXT: Readonly<Record<ImageSource, string>> = {
  auto: 'images already here, else the published ones pulled, else built here (minutes per component, then cached)',
  local: 'images built here (minutes per component the first time, then cached)',
  upstream: 'the published images, pulled by the engine',
};

/** The same, in a few words for a stack's one-line description. */
export const IMAGE_SOURCE_SHORT: Readonly<Record<ImageSource, string>> = {
  auto: 'here, else pulled, else built',
  local: 'built here',
  upstream: 'published, pulled',
};

export interface ResolvedImage {
  component: string;
  ref: string;
  origin: 'local' | 'upstream';
  /** local only: built during this call (false: reused from cache). */
  built: boolean;
}

/** How long a pull may go without a word from the registry before it is given up (no registry answers). */
export const PULL_SILENCE_MS = 8_000;
/** The longest a pull may take at all (a slow registry): then the image is built instead. */
const PULL_LIMIT_MS = 15 * 60_000;

export interface SourceOptions {
  progress: ImageProgress;
  /** Gives up a pull after this long without progress from the registry (default PULL_SILENCE_MS). */
  pullSilenceMs?: number;
}

/**
 * Picks the image of each component:
 *  - auto (the default): a current local image, else the published image when the engine has it, else the
 *    published image pulled (given up within seconds when no registry answers), else built here;
 *  - local: the image built here, built now if missing or made from another recipe;
 *  - upstream: the published image (pulled by the engine when absent).
 * A component whose upstream is a reference only (`published: false`) is always built here.
 */
export async function resolveImages(
  engine: DockerEngine,
  builder: ImageBuilder,
  specs: readonly ComponentSpec[],
  source: ImageSource,
  options: SourceOptions = { progress: { step: () => undefined, line: () => undefined } },
): Promise<ResolvedImage[]> {
  const resolved: ResolvedImage[] = [];
  const local = async (spec: ComponentSpec): Promise<ResolvedImage> => {
    const outcome = await builder.ensure(spec);
    return { component: spec.name, ref: outcome.ref, origin: 'local', built: !outcome.cached };
  };
  const upstream = (spec: ComponentSpec): ResolvedImage => ({
    component: spec.name,
    ref: spec.upstream,
    origin: 'upstream',
    built: false,
  });
  for (const spec of specs) {
    if (source === 'local' || !spec.published) resolved.push(await local(spec));
    else if (source === 'upstream') resolved.push(upstream(spec));
    else if ((await builder.status(spec)).state === 'current')
      resolved.push({ component: spec.name, ref: localImageRef(spec), origin: 'local', built: false });
    else if (await imageExists(engine, spec.upstream)) resolved.push(upstream(spec));
    else {
      options.progress.step(spec.name, `pulling ${spec.upstream}`);
      const pulled = await pullImage(engine, spec.upstream, options.pullSilenceMs ?? PULL_SILENCE_MS);
      if (pulled.ok) resolved.push(upstream(spec));
      else {
        options.progress.step(spec.name, `could not pull ${spec.upstream} (${pulled.why}): building it here`);
        resolved.push(await local(spec));
      }
    }
  }
  return resolved;
}

interface PullEvent {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Pulls `ref` through the engine. Gives up after `silenceMs` without a word from the registry (none
 * answers: an air-gapped machine) or after PULL_LIMIT_MS in all; a registry's refusal is a failure too.
 * Never throws: says why it did not pull.
 */
export async function pullImage(
  engine: DockerEngine,
  ref: string,
  silenceMs: number,
): Promise<{ ok: true } | { ok: false; why: string }> {
  const abort = new AbortController();
  let why = '';
  const giveUp = (reason: string) => {
    why ||= reason;
    abort.abort();
  };
  let silence = setTimeout(() => giveUp(`no answer within ${silenceMs / 1000} s`), silenceMs);
  const limit = setTimeout(() => giveUp(`not done within ${PULL_LIMIT_MS / 60_000} min`), PULL_LIMIT_MS);
  try {
    const stream = await engine.dockerode.pull(ref, { abortSignal: abort.signal });
    await new Promise<void>((resolve, reject) => {
      abort.signal.addEventListener('abort', () => reject(new Error(why)), { once: true });
      engine.dockerode.modem.followProgress(
        stream,
        (err: Error | null) => (err === null ? resolve() : reject(err)),
        (event: PullEvent) => {
          clearTimeout(silence);
          silence = setTimeout(() => giveUp(`no progress within ${silenceMs / 1000} s`), silenceMs);
          const error = event.errorDetail?.message ?? event.error;
          if (error !== undefined) giveUp(error);
        },
      );
    });
    if (why !== '') return { ok: false, why };
    return (await imageExists(engine, ref))
      ? { ok: true }
      : { ok: false, why: 'the engine does not have it after the pull' };
  } catch (err) {
    return { ok: false, why: why || (err instanceof Error ? err.message : String(err)) };
  } finally {
    clearTimeout(silence);
    clearTimeout(limit);
  }
}

export async function imageExists(engine: DockerEngine, ref: string): Promise<boolean> {
  try {
    await engine.dockerode.getImage(ref).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}
