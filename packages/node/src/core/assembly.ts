// The one assembly of a node's orchestrator, for real nodes (CompotasticNode) and the simulated swarm alike: the
// executor chain with the installed model's layer runner first, then the node's other executors, over its mesh link,
// with its capabilities, seed, settings and job store.

import { type Executor, ExecutorChain, type JobStore, ModelLayerExecutor, Orchestrator, type OrchestratorOptions } from '@compotastic/orchestrator';

/** Runs layer ranges of the models installed on a node. */
export type InstalledModelRunner = ConstructorParameters<typeof ModelLayerExecutor>[0];

export interface NodeOrchestratorOptions extends Omit<OrchestratorOptions, 'executor' | 'store'> {
  /** The installed model's runner, tried before every other executor (none: the node runs no model layers). */
  installedModel?: InstalledModelRunner | null;
  /** Executors tried after the installed model, in order. */
  executors: readonly Executor[];
  store: JobStore;
}

/** A node's executor chain: the installed model first, then `executors` (one executor as it is). */
export function nodeExecutor(installedModel: InstalledModelRunner | null | undefined, executors: readonly Executor[]): Executor {
  const chain = [...(installedModel ? [new ModelLayerExecutor(installedModel)] : []), ...executors];
  return chain.length === 1 ? chain[0]! : new ExecutorChain(chain);
}

export function nodeOrchestrator(o: NodeOrchestratorOptions): Orchestrator {
  const { installedModel, executors, ...rest } = o;
  return new Orchestrator({ ...rest, executor: nodeExecutor(installedModel, executors) });
}
