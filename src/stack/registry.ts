import { configurationError } from '../harness-error.js';
import { attachTopology } from './attach/index.js';
import { phase1Topology } from './phase1/index.js';
import { phase2Topology } from './phase2/index.js';
import { phase3Topology } from './phase3/index.js';
import type { Topology } from './topology.js';

/** Every topology by name. Adding Phase 2 or Kubernetes is a folder under src/stack and a line here. */
export const TOPOLOGIES: readonly Topology[] = [phase1Topology, phase2Topology, phase3Topology, attachTopology];

/** The phases `--phase` selects, with their topology. */
export const PHASE_TOPOLOGIES: Readonly<Record<string, string>> = { '1': 'phase1', '2': 'phase2', '3': 'phase3' };

export function topologyNamed(name: string): Topology {
  const t = TOPOLOGIES.find((x) => x.name === name);
  if (t === undefined) throw configurationError('topology', `one of ${TOPOLOGIES.map((x) => x.name).join(', ')}`, name);
  return t;
}
