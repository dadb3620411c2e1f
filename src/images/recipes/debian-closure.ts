/**
 * The dependency closure of Debian packages, from `apt-cache depends --recurse` (Depends and Pre-Depends
 * only). Pure: the apt-cache output is parsed, then walked the way apt would satisfy each dependency.
 */

/** The arguments that make `apt-cache depends` print Depends and Pre-Depends only, recursively. */
export const APT_CACHE_DEPENDS_ARGS = [
  'depends',
  '--recurse',
  '--no-recommends',
  '--no-suggests',
  '--no-conflicts',
  '--no-breaks',
  '--no-replaces',
  '--no-enhances',
] as const;

/** One way to satisfy a dependency: a package, or a virtual package (`<name>`) and what provides it. */
export interface Alternative {
  name: string;
  virtual: boolean;
  providers: string[];
}

/** Package → its dependencies; each dependency is a list of alternatives (`a | b`), in apt's order. */
export type DependencyGraph = Map<string, Alternative[][]>;

const DEPENDENCY = /^ ([ |])(PreDepends|Depends): (.+)$/;
const PROVIDER = /^ {4}(\S+)$/;

/**
 * Parses `apt-cache depends --recurse` output. A stanza starts with a package name at column 0; ` |Depends:`
 * marks an alternative OR-ed with the next line; lines indented by four spaces list the packages that
 * provide the dependency above them (for a virtual package, or through Provides).
 */
export function parseAptCacheDepends(text: string): DependencyGraph {
  const graph: DependencyGraph = new Map();
  let groups: Alternative[][] | undefined;
  let last: Alternative | undefined;
  let continuesGroup = false;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (!line.startsWith(' ')) {
      const name = line.trim();
      groups = [];
      if (!isVirtual(name)) graph.set(name, groups);
      last = undefined;
      continuesGroup = false;
      continue;
    }
    const dependency = DEPENDENCY.exec(line);
    if (dependency !== null && groups !== undefined) {
      const [, bar, , target] = dependency as unknown as [string, string, string, string];
      const alternative = { name: unbracket(target), virtual: isVirtual(target), providers: [] };
      if (continuesGroup) groups[groups.length - 1]!.push(alternative);
      else groups.push([alternative]);
      continuesGroup = bar === '|';
      last = alternative;
      continue;
    }
    const provider = PROVIDER.exec(line);
    if (provider !== null && last !== undefined) last.providers.push(provider[1]!);
    // Other dependency kinds (Recommends, Conflicts, ...) are switched off by the arguments; ignore any.
  }
  return graph;
}

function isVirtual(name: string): boolean {
  return name.startsWith('<') && name.endsWith('>');
}

function unbracket(name: string): string {
  return isVirtual(name) ? name.slice(1, -1) : name;
}

/**
 * The packages to download: `roots` and, recursively, one package per dependency. For `a | b` the first
 * alternative that is a real package is taken (as apt does on an empty system); a virtual package is
 * never downloaded but its first provider is. An excluded package satisfies its dependency without being
 * taken, so what only it pulls in is left out too. Sorted.
 */
export function dependencyClosure(
  graph: DependencyGraph,
  roots: readonly string[],
  exclude: readonly string[] = [],
): string[] {
  const excluded = new Set(exclude);
  const taken = new Set<string>();
  const pending: string[] = [];
  const take = (name: string): void => {
    if (taken.has(name) || excluded.has(name)) return;
    taken.add(name);
    pending.push(name);
  };
  for (const root of roots) {
    if (!graph.has(root)) throw new Error(`apt-cache knows no package '${root}'`);
    take(root);
  }
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    for (const group of graph.get(name) ?? []) {
      const choice = chooseAlternative(group, graph, excluded);
      if (choice !== undefined) take(choice);
    }
  }
  return [...taken].sort();
}

function chooseAlternative(
  group: readonly Alternative[],
  graph: DependencyGraph,
  excluded: ReadonlySet<string>,
): string | undefined {
  for (const alternative of group) {
    if (excluded.has(alternative.name)) return undefined;
    if (!alternative.virtual && graph.has(alternative.name)) return alternative.name;
    if (alternative.virtual) {
      const provider = alternative.providers.find((p) => graph.has(p));
      if (provider !== undefined) return excluded.has(provider) ? undefined : provider;
    }
  }
  return undefined;
}
