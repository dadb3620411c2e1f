/** Types of stacks/catalog.yaml. Field meanings are documented at the top of that file. */

export interface OcbRecipe {
  kind: 'ocb';
  /** `module@version` of the Collector Builder. */
  builder: string;
  /** OCB manifest, relative to stacks/. */
  manifest: string;
  /** Binary name the manifest produces (dist.name). */
  binary: string;
}

export interface GoBuild {
  package: string;
  output: string;
  tags: string[];
  /** Extra linker flags, e.g. `-X <pkg>.Version=<v>` as the upstream build sets them. */
  ldflags: string[];
}

/** One C file of a module source, compiled to a static binary: `cc <cflags> -static -o <output> <source>`. */
export interface CBuild {
  source: string;
  output: string;
  cflags: string[];
}

export interface GoModuleRecipe {
  kind: 'go-module';
  module: string;
  moduleVersion: string;
  /** Expected `h1:` sum of the module zip; verified after download when set. */
  sum: string | undefined;
  /** false: the checksum database has no record of this version (GONOSUMDB); `sum` is then required. */
  checksumDatabase: boolean;
  /** replace directives to drop after copying (nested modules left out of module zips). */
  dropReplaces: string[];
  /**
   * Rewrites every replace directive that points into the module's own tree (k8s.io/kubernetes'
   * `k8s.io/api => ./staging/src/k8s.io/api`, left out of the zip) to the published module at this
   * version (`k8s.io/api v0.34.4`). Only set when given.
   */
  localReplacesAt?: string;
  /** C programs of the module compiled statically with the host's cc (pause.c). Only set when given. */
  cBuilds?: CBuild[];
  /**
   * How a release version maps to the module version (`--image <component>=<version>`), e.g.
   * `v0.{major*100+minor}.{patch}`; undefined: only module versions (`v…`) can be asked for.
   */
  moduleVersionOf: string | undefined;
  builds: GoBuild[];
}

export interface DebianRecipe {
  kind: 'debian';
  packages: string[];
  /**
   * Also take every package they depend on (Depends, Pre-Depends), recursively, so that dynamically linked
   * programs find their loader and libraries in an image without a base OS. Absent: the packages alone.
   */
  dependencies?: true;
  /** Packages left out of the dependency closure together with what only they pull in. */
  excludePackages?: string[];
  /**
   * Files or directories taken from the unpacked packages: `from` is a path inside them (`.` is the whole
   * tree), `to` a build output name.
   */
  files: { from: string; to: string }[];
}

/** Maven artifacts (`group:artifact:version`) resolved from Maven Central into one directory of jars. */
export interface MavenRecipe {
  kind: 'maven';
  artifacts: string[];
  /** With their runtime dependencies (true) or the artifacts alone. */
  transitive: boolean;
  /** Build output name of the directory of jars. */
  output: string;
}

/** Several recipes whose outputs make one image (a JRE from Debian and jars from Maven). */
export interface CombinedRecipe {
  kind: 'combined';
  parts: SingleRecipe[];
}

export type SingleRecipe = OcbRecipe | GoModuleRecipe | DebianRecipe | MavenRecipe;
export type Recipe = SingleRecipe | CombinedRecipe;

export interface ImageFile {
  /**
   * `build:<output>` (a recipe output; `build:<output>/<path>` a file inside an output directory),
   * `source:<path>` (inside the module source) or `file:<path>` (under stacks/).
   */
  from: string;
  to: string;
  owner: string | undefined;
  mode: string | undefined;
}

/** A directory copied into the image with everything under it: modes and symlinks kept. */
export interface ImageTree {
  /** A directory, named like an image file's `from`. */
  from: string;
  /** Where its content goes (`/`: merged into the root). */
  to: string;
  /** Paths relative to `from` left out with what is under them; `*` matches within one path segment. */
  exclude: string[];
  /** Owner of every entry; absent: root. */
  owner: string | undefined;
}

export interface ImageLink {
  path: string;
  target: string;
}

export interface ImageDir {
  path: string;
  owner: string | undefined;
  mode: string | undefined;
}

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

export interface ImageSpec {
  files: ImageFile[];
  /** Whole directories (e.g. unpacked Debian packages); laid down before everything else. Absent: none. */
  trees?: ImageTree[];
  /** Symbolic links. Absent: none. */
  links?: ImageLink[];
  dirs: ImageDir[];
  accounts: Account[];
  /** Include a static busybox with its applets in /bin (as the upstream image's base does). */
  busybox: boolean;
  /** Include /etc/ssl/certs/ca-certificates.crt. */
  certificates: boolean;
  user: string | undefined;
  workdir: string | undefined;
  env: Record<string, string>;
  expose: number[];
  volumes: string[];
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
  /** The signal that stops the container (STOPSIGNAL). Absent: SIGTERM. */
  stopSignal?: string;
}

/** What stack definitions rely on; the same for the upstream and the local image. */
export interface Layout {
  binary: string;
  config: string | undefined;
  dataDir: string | undefined;
  user: string;
  ports: number[];
}

export interface ComponentSpec {
  name: string;
  description: string;
  version: string;
  /** Local image tag when it is not the version (a build from a user's own manifest). */
  tag?: string;
  upstream: string;
  /** Whether the upstream image runs in place of the local one (false: a reference only; built here always). */
  published: boolean;
  recipe: Recipe;
  image: ImageSpec;
  layout: Layout;
}

/** A tool run as a subprocess (k6), built with a Go builder (xk6). */
export interface ToolSpec {
  name: string;
  description: string;
  version: string;
  /** The published image of the tool (k6-operator runners use it). */
  upstream: string;
  /** `module@version` of the builder (xk6). */
  builder: string;
  /** `module@version` of the tool itself. */
  module: string;
  /** `module@version` of extensions to build in. */
  extensions: string[];
}

export interface Catalog {
  path: string;
  components: ReadonlyMap<string, ComponentSpec>;
  tools: ReadonlyMap<string, ToolSpec>;
}
