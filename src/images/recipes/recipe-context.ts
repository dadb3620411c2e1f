import type { ComponentSpec } from '../catalog-types.js';

/** What a recipe gets to work with. Directories persist between runs (the build cache). */
export interface RecipeContext {
  spec: ComponentSpec;
  /** Per component and version: sources, outputs. */
  workDir: string;
  /** Shared tools (the Collector Builder, Debian packages). */
  toolsDir: string;
  stacksDir: string;
  env: NodeJS.ProcessEnv;
  /** A named step of the build, shown as progress. */
  step: (message: string) => void;
  /** A line of a build tool's output (shown when verbose, kept for errors). */
  line: (text: string) => void;
}

export interface RecipeResult {
  /** Recipe output name → host path. */
  outputs: Map<string, string>;
  /** Unpacked module source, for `source:` files. */
  sourceDir: string | undefined;
}
