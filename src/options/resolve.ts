import { configurationError } from '../harness-error.js';
import { envName, type OptionDef, type OptionTable } from './option-table.js';

/** Raw flags as node:util parseArgs gives them (booleans as 'true', repeatable flags as lists). */
export type RawFlags = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Where a value came from (for messages and reports). */
export type ValueSource = 'flag' | 'env' | 'spec' | 'default';

export interface Resolved {
  values: Record<string, unknown>;
  /** Option key → where its value came from (absent: no value). */
  sources: Record<string, ValueSource>;
}

/**
 * The one resolver: each option of `tables` from its flag, then its environment variables, then `spec` (a
 * stack spec's values, by flag name), then its default — parsed and validated here, so every bad value is
 * one configuration error (exit 2) before anything starts. Flags of `inactive` tables (another topology's
 * options) are refused, naming the table they belong to.
 */
export function resolveOptions(
  tables: readonly OptionTable[],
  flags: RawFlags,
  env: NodeJS.ProcessEnv,
  spec: Readonly<Record<string, string | readonly string[]>> = {},
  inactive: readonly OptionTable[] = [],
): Resolved {
  for (const table of inactive) {
    for (const def of table.options) {
      if (flags[def.flag] !== undefined && !tables.some((t) => t.options.some((o) => o.flag === def.flag))) {
        const active = tables.map((t) => t.title).join(', ');
        throw configurationError(
          `--${def.flag}`,
          `an option of ${active} (it belongs to ${table.title})`,
          flagText(flags[def.flag]),
          table.activation === undefined ? undefined : `to use it, ${table.activation}`,
        );
      }
    }
  }
  const values: Record<string, unknown> = {};
  const sources: Record<string, ValueSource> = {};
  for (const table of tables) {
    for (const def of table.options) {
      const picked = pick(def, flags, env, spec);
      if (picked === undefined) {
        values[def.key] = def.repeatable === true ? [] : undefined;
        continue;
      }
      values[def.key] =
        def.repeatable === true
          ? picked.raws.map((raw) => def.parse(raw, picked.name))
          : def.parse(picked.raws[0]!, picked.name);
      sources[def.key] = picked.source;
    }
  }
  for (const table of tables)
    for (const def of table.options) refuseAlone(def, table, values, sources, flags, env, spec);
  return { values, sources };
}

/** An `onlyWith` option given while its other option has another value: exit 2 saying what to add. */
function refuseAlone(
  def: OptionDef,
  table: OptionTable,
  values: Readonly<Record<string, unknown>>,
  sources: Readonly<Record<string, ValueSource>>,
  flags: RawFlags,
  env: NodeJS.ProcessEnv,
  spec: Readonly<Record<string, string | readonly string[]>>,
): void {
  const need = def.onlyWith;
  const source = sources[def.key];
  // A stack spec carries every option's value (`up --print-spec`), so only a flag or a variable is refused.
  if (need === undefined || (source !== 'flag' && source !== 'env') || String(values[need.key]) === need.value) return;
  const other = table.options.find((o) => o.key === need.key);
  const otherFlag = other === undefined ? need.key : `--${other.flag}`;
  const with_ = other?.boolean === true && need.value === 'true' ? otherFlag : `${otherFlag} ${need.value}`;
  const picked = pick(def, flags, env, spec);
  throw configurationError(
    picked?.name ?? `--${def.flag}`,
    `an option of ${with_} (ignored otherwise)`,
    picked?.raws.join(' ') ?? '',
    `to use it, add ${with_}`,
  );
}

function flagText(v: string | readonly string[] | undefined): string {
  return typeof v === 'string' ? v : (v ?? []).join(' ');
}

function pick(
  def: OptionDef,
  flags: RawFlags,
  env: NodeJS.ProcessEnv,
  spec: Readonly<Record<string, string | readonly string[]>>,
): { raws: string[]; name: string; source: ValueSource } | undefined {
  const asList = (v: string | readonly string[]) => (typeof v === 'string' ? [v] : [...v]);
  const flag = flags[def.flag];
  if (flag !== undefined && asList(flag).length > 0)
    return { raws: asList(flag), name: `--${def.flag}`, source: 'flag' };
  for (const name of [envName(def.flag), ...(def.env ?? [])]) {
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv !== '') {
      const raws =
        def.repeatable === true
          ? fromEnv
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s !== '')
          : [fromEnv];
      return { raws, name, source: 'env' };
    }
  }
  const fromSpec = spec[def.flag];
  if (fromSpec !== undefined) return { raws: asList(fromSpec), name: `stack spec ${def.flag}`, source: 'spec' };
  if (def.default !== undefined) return { raws: [def.default], name: `--${def.flag}`, source: 'default' };
  return undefined;
}

/** node:util parseArgs option specs of tables (flags as strings; booleans; repeatable as multiple). */
export function flagSpecs(
  tables: readonly OptionTable[],
): Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> {
  const out: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const t of tables) {
    for (const o of t.options) {
      out[o.flag] =
        o.boolean === true
          ? { type: 'boolean' }
          : { type: 'string', ...(o.repeatable === true ? { multiple: true } : {}) };
    }
  }
  return out;
}

/** `--help` rows of a table: flag, help and default (from the table, the one place defaults live). */
export function helpRows(table: OptionTable): string[] {
  return table.options.map((o) => {
    const flag = `--${o.flag}${o.boolean === true ? '' : ' <v>'}`;
    const def = o.default === undefined ? 'none' : o.default;
    const env = o.env === undefined || o.env.length === 0 ? '' : `; env ${o.env.join(', ')}`;
    return `  ${flag.padEnd(28)}${o.help} (default: ${def}${env})${o.repeatable === true ? ' [repeatable]' : ''}`;
  });
}
