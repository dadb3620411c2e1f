import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseDocument, isMap, isSeq, type Document } from 'yaml';
import { configurationError } from '../harness-error.js';
import { Fields } from '../options/fields.js';
import { renderTemplate } from './docker/render-config.js';

/** The seed configuration as written; every other variant is an overlay on it. */
export const SEED_VARIANT = 'seed';

export interface PipelineEdit {
  /** Insert `add` after this processor (default: at the end). */
  insertAfter?: string;
  add: string[];
  remove: string[];
  /** Replaces the pipeline's exporters. */
  exporters?: string[];
}

export interface CollectorVariant {
  name: string;
  description: string;
  /** Deep-merged into the configuration root (mappings merge, other values replace). */
  merge: Record<string, unknown>;
  pipelines: Record<string, PipelineEdit>;
}

/** Variants available for a phase: `seed` plus every `variants/<name>.yaml`. */
export function listVariants(phaseDir: string): string[] {
  const dir = join(phaseDir, 'variants');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')) : [];
  return [SEED_VARIANT, ...files.map((f) => f.replace(/\.yaml$/, '')).sort()];
}

/** Loads a variant; `{{tokens}}` in it (e.g. the trace exporter's name) are filled from `values`. */
export function loadVariant(
  phaseDir: string,
  name: string,
  values: Readonly<Record<string, string>> = {},
): CollectorVariant | undefined {
  if (name === SEED_VARIANT) return undefined;
  const valid = listVariants(phaseDir);
  if (!valid.includes(name)) throw configurationError('--variant', `one of ${valid.join(', ')}`, name);
  const file = join(phaseDir, 'variants', `${name}.yaml`);
  const text = renderTemplate(
    readFileSync(file, 'utf8'),
    values,
    `stacks/${basename(phaseDir)}/variants/${name}.yaml`,
    {
      allowUnused: true,
    },
  );
  return parseVariant(name, text, file);
}

export function parseVariant(name: string, text: string, file: string): CollectorVariant {
  const doc = parseDocument(text);
  const f = new Fields(doc.toJS() as unknown, file);
  const pipelines: Record<string, PipelineEdit> = {};
  const raw = (doc.toJS() as { pipelines?: Record<string, unknown> }).pipelines ?? {};
  const pf = Object.keys(raw).length > 0 ? f.object('pipelines') : undefined;
  for (const pipeline of Object.keys(raw)) {
    const e = pf!.object(pipeline);
    const insertAfter = e.optionalString('insertAfter');
    const exporters = e.optionalStringList('exporters');
    pipelines[pipeline] = {
      ...(insertAfter === undefined ? {} : { insertAfter }),
      add: e.optionalStringList('add') ?? [],
      remove: e.optionalStringList('remove') ?? [],
      ...(exporters === undefined ? {} : { exporters }),
    };
  }
  const merge = (doc.toJS() as { merge?: Record<string, unknown> }).merge ?? {};
  return { name, description: f.string('description'), merge, pipelines };
}

function deepMerge(doc: Document, path: (string | number)[], value: unknown): void {
  const existing = doc.getIn(path, true);
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && isMap(existing)) {
    for (const [k, v] of Object.entries(value)) deepMerge(doc, [...path, k], v);
  } else {
    doc.setIn(path, value);
  }
}

/**
 * Applies a variant to a rendered collector configuration: merges its mappings, then edits pipelines'
 * processor lists. Unknown pipelines or anchor processors are configuration errors.
 */
export function applyVariant(configText: string, variant: CollectorVariant | undefined): string {
  if (variant === undefined) return configText;
  const doc = parseDocument(configText);
  for (const [k, v] of Object.entries(variant.merge)) deepMerge(doc, [k], v);
  for (const [pipeline, edit] of Object.entries(variant.pipelines)) {
    const path = ['service', 'pipelines', pipeline, 'processors'];
    const node = doc.getIn(path, true);
    if (!isSeq(node))
      throw configurationError(
        `variant ${variant.name} pipelines.${pipeline}`,
        'a pipeline of the configuration',
        pipeline,
      );
    let processors = (node.toJSON() as string[]).filter((p) => !edit.remove.includes(p));
    for (const r of edit.remove) {
      if (!(node.toJSON() as string[]).includes(r))
        throw configurationError(
          `variant ${variant.name} pipelines.${pipeline}.remove`,
          'processors of the pipeline',
          r,
        );
    }
    if (edit.insertAfter !== undefined) {
      const at = processors.indexOf(edit.insertAfter);
      if (at < 0)
        throw configurationError(
          `variant ${variant.name} pipelines.${pipeline}.insertAfter`,
          `one of ${processors.join(', ')}`,
          edit.insertAfter,
        );
      processors = [...processors.slice(0, at + 1), ...edit.add, ...processors.slice(at + 1)];
    } else {
      processors = [...processors, ...edit.add];
    }
    doc.setIn(path, processors);
    if (edit.exporters !== undefined) {
      for (const exporter of edit.exporters) {
        if (doc.getIn(['exporters', exporter]) === undefined) {
          throw configurationError(
            `variant ${variant.name} pipelines.${pipeline}.exporters`,
            'exporters defined in the configuration',
            exporter,
          );
        }
      }
      doc.setIn(['service', 'pipelines', pipeline, 'exporters'], edit.exporters);
    }
  }
  return doc.toString();
}
