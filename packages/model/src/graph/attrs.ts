// Typed reads of ONNX node attributes, with a fallback when absent and a typed
// error when present with the wrong type.

import { ModelError } from '../errors.js';
import type { Attribute, Node } from '../onnx/types.js';

export function attr(node: Node, name: string): Attribute | undefined {
  return node.attributes.find((a) => a.name === name);
}

export function intAttr(node: Node, name: string, fallback: number): number {
  const a = attr(node, name);
  if (!a) return fallback;
  if (a.type !== 'int') throw new ModelError('ATTRIBUTE', `${node.opType} attribute ${name} must be an int`);
  return Number(a.value);
}

export function floatAttr(node: Node, name: string, fallback: number): number {
  const a = attr(node, name);
  if (!a) return fallback;
  if (a.type !== 'float') throw new ModelError('ATTRIBUTE', `${node.opType} attribute ${name} must be a float`);
  return a.value;
}

export function intsAttr(node: Node, name: string): number[] | undefined {
  const a = attr(node, name);
  if (!a) return undefined;
  if (a.type !== 'ints') throw new ModelError('ATTRIBUTE', `${node.opType} attribute ${name} must be ints`);
  return a.value.map(Number);
}

export function stringAttr(node: Node, name: string, fallback: string): string {
  const a = attr(node, name);
  if (!a) return fallback;
  if (a.type !== 'string') throw new ModelError('ATTRIBUTE', `${node.opType} attribute ${name} must be a string`);
  return a.value;
}
