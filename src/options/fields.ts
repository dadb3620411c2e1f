import { configurationError } from '../harness-error.js';

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Typed, path-aware access to parsed YAML/JSON. Every wrong or missing field becomes one configuration
 * error naming the file and the field (exit 2), so callers never see `undefined` where data is required.
 */
export class Fields {
  private readonly value: Plain;

  /** @param file where the data came from; @param keyPath dotted path of this mapping inside it ('' at the root). */
  constructor(
    value: unknown,
    private readonly file: string,
    private readonly keyPath = '',
  ) {
    if (!isPlain(value)) throw configurationError(this.where(), 'a mapping', JSON.stringify(value));
    this.value = value;
  }

  private where(): string {
    return this.keyPath === '' ? this.file : `${this.file} ${this.keyPath}`;
  }

  private child(key: string): string {
    return this.keyPath === '' ? key : `${this.keyPath}.${key}`;
  }

  /** `<file> <dotted.key>`, the name used in messages about `key`. */
  at(key: string): string {
    return `${this.file} ${this.child(key)}`;
  }

  keys(): string[] {
    return Object.keys(this.value);
  }

  private get(key: string): unknown {
    const v = this.value[key];
    if (v === undefined || v === null) throw configurationError(this.at(key), 'a value', 'missing');
    return v;
  }

  string(key: string): string {
    const v = this.get(key);
    if (typeof v !== 'string' || v.length === 0) throw configurationError(this.at(key), 'a non-empty string', v);
    return v;
  }

  optionalString(key: string): string | undefined {
    return this.value[key] === undefined ? undefined : this.string(key);
  }

  number(key: string): number {
    const v = this.get(key);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw configurationError(this.at(key), 'a number', v);
    return v;
  }

  optionalBoolean(key: string): boolean | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw configurationError(this.at(key), 'true or false', v);
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const v = this.string(key);
    if (!(allowed as readonly string[]).includes(v)) throw configurationError(this.at(key), allowed.join(' | '), v);
    return v as T;
  }

  object(key: string): Fields {
    return new Fields(this.get(key), this.file, this.child(key));
  }

  list(key: string): Fields[] {
    const v = this.get(key);
    if (!Array.isArray(v)) throw configurationError(this.at(key), 'a list', v);
    return v.map((item, i) => new Fields(item, this.file, `${this.child(key)}[${i}]`));
  }

  optionalList(key: string): Fields[] | undefined {
    return this.value[key] === undefined ? undefined : this.list(key);
  }

  stringList(key: string): string[] {
    return this.listOf(key, (x): x is string => typeof x === 'string', 'a list of strings');
  }

  optionalStringList(key: string): string[] | undefined {
    return this.value[key] === undefined ? undefined : this.stringList(key);
  }

  numberList(key: string): number[] {
    return this.listOf(key, (x): x is number => typeof x === 'number', 'a list of numbers');
  }

  optionalNumberList(key: string): number[] | undefined {
    return this.value[key] === undefined ? undefined : this.numberList(key);
  }

  /** A list whose every item passes `is`, else a configuration error naming `rule`. */
  private listOf<T>(key: string, is: (x: unknown) => x is T, rule: string): T[] {
    const v = this.get(key);
    if (!Array.isArray(v) || !v.every(is)) throw configurationError(this.at(key), rule, JSON.stringify(v));
    return v;
  }

  optionalStringMap(key: string): Record<string, string> | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (!isPlain(v) || !Object.values(v).every((s) => typeof s === 'string')) {
      throw configurationError(this.at(key), 'a mapping of strings', JSON.stringify(v));
    }
    return v as Record<string, string>;
  }
}
