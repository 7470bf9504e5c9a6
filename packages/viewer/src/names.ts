// One way to name a node everywhere (map labels, tooltips, jobs, the event log,
// the node list): the short name the trace gave it (n12), with the Meshtastic
// node id (!10001516) for hovering. Names are looked up when shown, so a node
// described later in a trace is still named consistently.

import { nodeUserId as nodeId } from '@compotastic/mesh';

/** The Meshtastic node id of a node number (`!` and eight hex digits), for hovers and the node list. */
export { nodeId };

export interface Named {
  num: number;
  name: string;
}

export interface NodeDirectory {
  nodes: ReadonlyMap<number, Named>;
}

/** The short name shown for a node (its node id when the trace never named it). */
export function nodeLabel(dir: NodeDirectory, num: number | null | undefined): string {
  if (num === null || num === undefined) return 'swarm';
  return dir.nodes.get(num)?.name || nodeId(num);
}

/** The short name and the node id, for hovers. */
export function nodeTitle(dir: NodeDirectory, num: number): string {
  const label = nodeLabel(dir, num);
  const id = nodeId(num);
  return label === id ? id : `${label} ${id}`;
}

const NODE_ID = /!([0-9a-f]{8})\b/g;

/** Rewrites the node ids in a text (a planner's explanation, a warning) to the short names the map shows. */
export function withShortNames(dir: NodeDirectory, text: string): string {
  return text.replace(NODE_ID, (id, hex: string) => {
    const n = dir.nodes.get(parseInt(hex, 16));
    return n?.name || id;
  });
}
