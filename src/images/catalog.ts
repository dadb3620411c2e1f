import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configurationError } from '../harness-error.js';
import { stacksDir } from '../paths.js';
import type {
  Account,
  Catalog,
  CBuild,
  ComponentSpec,
  DebianRecipe,
  GoBuild,
  ImageDir,
  ImageFile,
  ImageLink,
  ImageSpec,
  ImageTree,
  Layout,
  MavenRecipe,
  Recipe,
  SingleRecipe,
  ToolSpec,
} from './catalog-types.js';
import { Fields } from '../options/fields.js';

export const CATALOG_FILE = 'catalog.yaml';

/** Loads and validates stacks/catalog.yaml (or `path`). Any malformed field is a configuration error (exit 2). */
export function loadCatalog(path: string = join(stacksDir(), CATALOG_FILE)): Catalog {
  return parseCatalog(readFileSync(path, 'utf8'), path);
}

export function parseCatalog(text: string, path: string): Catalog {
  const root = new Fields(parse(text) as unknown, path);
  const schemaVersion = root.number('schemaVersion');
  if (schemaVersion !== 1) throw configurationError(`${path} schemaVersion`, '1', schemaVersion);
  const componentsField = root.object('components');
  const components = new Map<string, ComponentSpec>();
  for (const name of componentsField.keys()) {
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw configurationError(`${path} components`, 'lower-case names', name);
    components.set(name, parseComponent(name, componentsField.object(name)));
  }
  const tools = new Map<string, ToolSpec>();
  if (root.keys().includes('tools')) {
    const toolsField = root.object('tools');
    for (const name of toolsField.keys()) {
      const t = toolsField.object(name);
      tools.set(name, {
        name,
        description: t.string('description'),
        version: t.string('version'),
        upstream: t.string('upstream'),
        builder: t.string('builder'),
        module: t.string('module'),
        extensions: t.optionalStringList('extensions') ?? [],
      });
    }
  }
  return { path, components, tools };
}

function parseComponent(name: string, f: Fields): ComponentSpec {
  const spec: ComponentSpec = {
    name,
    description: f.string('description'),
    version: f.string('version'),
    upstream: f.string('upstream'),
    published: f.optionalBoolean('published') ?? true,
    recipe: parseRecipe(f.object('recipe')),
    image: parseImage(f.object('image')),
    layout: parseLayout(f.object('layout')),
  };
  checkConsistency(spec, f);
  return spec;
}

function parseRecipe(f: Fields): Recipe {
  if (f.string('kind') !== 'combined') return parseSingleRecipe(f);
  const parts = f.list('parts').map(parseSingleRecipe);
  const outputs = parts.flatMap(recipeOutputs);
  const twice = outputs.find((o, i) => outputs.indexOf(o) !== i);
  if (twice !== undefined) throw configurationError(f.at('parts'), 'distinct output names across parts', twice);
  return { kind: 'combined', parts };
}

function parseSingleRecipe(f: Fields): SingleRecipe {
  const kind = f.oneOf('kind', ['ocb', 'go-module', 'debian', 'maven', 'combined'] as const);
  switch (kind) {
    case 'ocb':
      return { kind, builder: f.string('builder'), manifest: f.string('manifest'), binary: f.string('binary') };
    case 'go-module': {
      const checksumDatabase = f.optionalBoolean('checksumDatabase') ?? true;
      const sum = f.optionalString('sum');
      if (!checksumDatabase && sum === undefined) {
        throw configurationError(f.at('sum'), 'an h1: sum when checksumDatabase is false', 'missing');
      }
      const localReplacesAt = f.optionalString('localReplacesAt');
      if (localReplacesAt !== undefined && !/^v\d+\.\d+\.\d+$/.test(localReplacesAt)) {
        throw configurationError(f.at('localReplacesAt'), 'a module version like v0.34.4', localReplacesAt);
      }
      const cBuilds = f.optionalList('cBuilds')?.map(parseCBuild);
      return {
        kind,
        module: f.string('module'),
        moduleVersion: f.string('moduleVersion'),
        sum,
        checksumDatabase,
        dropReplaces: f.optionalStringList('dropReplaces') ?? [],
        // Only set when given: recipes without them keep their serialised form (and hash).
        ...(localReplacesAt === undefined ? {} : { localReplacesAt }),
        ...(cBuilds === undefined ? {} : { cBuilds }),
        moduleVersionOf: f.optionalString('moduleVersionOf'),
        builds: f.optionalList('builds')?.map(parseGoBuild) ?? [],
      };
    }
    case 'debian':
      return parseDebianRecipe(f);
    case 'maven':
      return parseMavenRecipe(f);
    case 'combined':
      throw configurationError(f.at('kind'), 'a single recipe inside a combined one', kind);
  }
}

/** Optional fields are only set when given, so recipes without them keep their serialised form (and hash). */
function parseDebianRecipe(f: Fields): DebianRecipe {
  const packages = f.stringList('packages');
  const dependencies = f.optionalBoolean('dependencies') ?? false;
  const excludePackages = f.optionalStringList('excludePackages');
  if (excludePackages !== undefined && !dependencies) {
    throw configurationError(f.at('excludePackages'), 'dependencies: true beside it', 'dependencies off');
  }
  return {
    kind: 'debian',
    packages,
    ...(dependencies ? { dependencies: true as const } : {}),
    ...(excludePackages === undefined ? {} : { excludePackages }),
    files: f.list('files').map((file) => ({ from: file.string('from'), to: file.string('to') })),
  };
}

export const MAVEN_COORDINATE = /^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.+-]+$/;

function parseMavenRecipe(f: Fields): MavenRecipe {
  const artifacts = f.stringList('artifacts');
  if (artifacts.length === 0) throw configurationError(f.at('artifacts'), 'at least one artifact', '[]');
  for (const artifact of artifacts) {
    if (!MAVEN_COORDINATE.test(artifact)) {
      throw configurationError(f.at('artifacts'), 'group:artifact:version coordinates', artifact);
    }
  }
  return {
    kind: 'maven',
    artifacts,
    transitive: f.optionalBoolean('transitive') ?? true,
    output: f.string('output'),
  };
}

function parseGoBuild(f: Fields): GoBuild {
  return {
    package: f.string('package'),
    output: f.string('output'),
    tags: f.optionalStringList('tags') ?? [],
    ldflags: f.optionalStringList('ldflags') ?? [],
  };
}

function parseCBuild(f: Fields): CBuild {
  const source = f.string('source');
  if (source.startsWith('/') || source.split('/').includes('..')) {
    throw configurationError(f.at('source'), 'a path inside the module', source);
  }
  return { source, output: f.string('output'), cflags: f.optionalStringList('cflags') ?? [] };
}

function parseImage(f: Fields): ImageSpec {
  const trees = f.optionalList('trees')?.map(parseImageTree);
  const links = f.optionalList('links')?.map(parseImageLink);
  const stopSignal = f.optionalString('stopSignal');
  if (stopSignal !== undefined && !/^(SIG[A-Z0-9]+|\d+)$/.test(stopSignal)) {
    throw configurationError(f.at('stopSignal'), 'a signal name like SIGUSR1', stopSignal);
  }
  return {
    files: f.list('files').map(parseImageFile),
    // Only set when given: an image spec without them keeps its serialised form (and recipe hash).
    ...(trees === undefined ? {} : { trees }),
    ...(links === undefined ? {} : { links }),
    dirs: (f.optionalList('dirs') ?? []).map(parseImageDir),
    accounts: (f.optionalList('accounts') ?? []).map(parseAccount),
    busybox: f.optionalBoolean('busybox') ?? false,
    certificates: f.optionalBoolean('certificates') ?? false,
    user: f.optionalString('user'),
    workdir: f.optionalString('workdir'),
    env: f.optionalStringMap('env') ?? {},
    expose: f.optionalNumberList('expose') ?? [],
    volumes: f.optionalStringList('volumes') ?? [],
    entrypoint: f.optionalStringList('entrypoint'),
    cmd: f.optionalStringList('cmd'),
    ...(stopSignal === undefined ? {} : { stopSignal }),
  };
}

function parseImageFile(f: Fields): ImageFile {
  const from = f.string('from');
  if (!/^(build|source|file):.+/.test(from)) {
    throw configurationError(f.at('from'), "'build:<output>', 'source:<path>' or 'file:<path>'", from);
  }
  return { from, to: absolute(f, 'to'), owner: f.optionalString('owner'), mode: f.optionalString('mode') };
}

function parseImageTree(f: Fields): ImageTree {
  const from = f.string('from');
  if (!/^(build|source):.+/.test(from)) {
    throw configurationError(f.at('from'), "a directory: 'build:<output>' or 'source:<path>'", from);
  }
  const exclude = f.optionalStringList('exclude') ?? [];
  for (const pattern of exclude) {
    if (pattern.startsWith('/') || pattern.split('/').includes('..') || pattern === '') {
      throw configurationError(f.at('exclude'), 'paths relative to the tree', pattern);
    }
  }
  return { from, to: absolute(f, 'to'), exclude, owner: f.optionalString('owner') };
}

function parseImageLink(f: Fields): ImageLink {
  return { path: absolute(f, 'path'), target: f.string('target') };
}

function parseImageDir(f: Fields): ImageDir {
  return { path: absolute(f, 'path'), owner: f.optionalString('owner'), mode: f.optionalString('mode') };
}

function parseAccount(f: Fields): Account {
  return { name: f.string('name'), uid: f.number('uid'), gid: f.number('gid') };
}

function parseLayout(f: Fields): Layout {
  return {
    binary: absolute(f, 'binary'),
    config: f.optionalString('config'),
    dataDir: f.optionalString('dataDir'),
    user: f.string('user'),
    ports: f.numberList('ports'),
  };
}

function absolute(f: Fields, key: string): string {
  const value = f.string(key);
  if (!value.startsWith('/')) throw configurationError(f.at(key), 'an absolute path', value);
  return value;
}

/** The local image must put the binary where the layout (and the upstream image) says, and run as the same user. */
function checkConsistency(spec: ComponentSpec, f: Fields): void {
  if (!spec.image.files.some((file) => file.to === spec.layout.binary)) {
    throw configurationError(f.at('layout.binary'), 'a path the image puts a file at', spec.layout.binary);
  }
  if (spec.image.user !== spec.layout.user) {
    throw configurationError(f.at('image.user'), `the layout's user '${spec.layout.user}'`, spec.image.user);
  }
  const outputs = recipeOutputs(spec.recipe);
  const slashed = outputs.find((o) => o.includes('/'));
  if (slashed !== undefined) throw configurationError(f.at('recipe'), 'output names without a slash', slashed);
  const sources = [
    ...spec.image.files.map((file) => ({ from: file.from, field: 'image.files' })),
    ...(spec.image.trees ?? []).map((tree) => ({ from: tree.from, field: 'image.trees' })),
  ];
  for (const { from, field } of sources) {
    if (from.startsWith('build:') && !outputs.includes(splitBuildReference(from).output)) {
      throw configurationError(f.at(field), `one of the recipe outputs (${outputs.join(', ')})`, from);
    }
  }
}

/** `build:<output>` or `build:<output>/<path inside an output directory>` (output names hold no slash). */
export function splitBuildReference(from: string): { output: string; path: string } {
  const ref = from.slice('build:'.length);
  const slash = ref.indexOf('/');
  return slash < 0 ? { output: ref, path: '' } : { output: ref.slice(0, slash), path: ref.slice(slash + 1) };
}

/** Names of the files (or directories) a recipe produces. */
export function recipeOutputs(recipe: Recipe): string[] {
  switch (recipe.kind) {
    case 'ocb':
      return [recipe.binary];
    case 'go-module':
      return [...recipe.builds.map((b) => b.output), ...(recipe.cBuilds ?? []).map((b) => b.output)];
    case 'debian':
      return recipe.files.map((file) => file.to);
    case 'maven':
      return [recipe.output];
    case 'combined':
      return recipe.parts.flatMap(recipeOutputs);
  }
}

/** Local image reference of a component, e.g. `otel-harness/loki:3.7.8`. */
export function localImageRef(spec: ComponentSpec): string {
  return `otel-harness/${spec.name}:${spec.tag ?? spec.version}`;
}

/** Looks up components by name; an unknown name is a usage error listing the valid ones. */
export function selectComponents(catalog: Catalog, names: readonly string[]): ComponentSpec[] {
  if (names.length === 0) return [...catalog.components.values()];
  const valid = [...catalog.components.keys()];
  return names.map((name) => {
    const spec = catalog.components.get(name);
    if (spec === undefined) throw configurationError('component', `one of ${valid.join(', ')}`, name);
    return spec;
  });
}
