import { describe, expect, it } from 'vitest';
import { GraphBuildError, attr, decodeModel, encodeModel, graph, irVersionForOpset, tensor, toAttribute } from '../src/index.js';

describe('graph builder', () => {
  it('builds a model that decodes back to the same graph', () => {
    const w = tensor('int8', [3, 2], [1, -2, 3, -4, 5, -6]);
    const model = graph('qmm')
      .input('A', 'uint8', [1, 3])
      .initializer('B', w)
      .initializer('a_zp', tensor('uint8', [], [128]))
      .node('MatMulInteger', ['A', 'B', 'a_zp'], ['Y'], {}, { name: 'mm' })
      .output('Y', 'int32', [1, 2])
      .model({ opset: 21 });
    expect(model.irVersion).toBe(10);
    expect(model.opsetImports).toEqual([{ domain: '', version: 21 }]);
    const decoded = decodeModel(encodeModel(model));
    expect(decoded.graph.nodes).toEqual([{ opType: 'MatMulInteger', inputs: ['A', 'B', 'a_zp'], outputs: ['Y'], attributes: [], name: 'mm' }]);
    expect(decoded.graph.initializers.map((t) => t.name)).toEqual(['B', 'a_zp']);
    expect(decoded.graph.initializers[0]!.data).toEqual(Int8Array.of(1, -2, 3, -4, 5, -6));
    expect(decoded.graph.inputs).toEqual([{ name: 'A', type: { elemType: 'uint8', shape: [1, 3] } }]);
    expect(decoded.graph.outputs).toEqual([{ name: 'Y', type: { elemType: 'int32', shape: [1, 2] } }]);
    expect(decoded).toEqual(model);
  });

  it('types plain attribute values and honours explicit types', () => {
    expect(toAttribute('axis', 1)).toEqual({ name: 'axis', type: 'int', value: 1 });
    expect(toAttribute('alpha', 0.5)).toEqual({ name: 'alpha', type: 'float', value: 0.5 });
    expect(toAttribute('alpha', attr.float(1))).toEqual({ name: 'alpha', type: 'float', value: 1 });
    expect(toAttribute('inf', Infinity)).toEqual({ name: 'inf', type: 'float', value: Infinity });
    expect(toAttribute('p', [1, 2.5])).toEqual({ name: 'p', type: 'floats', value: [1, 2.5] });
    expect(toAttribute('p', [1, 2n])).toEqual({ name: 'p', type: 'ints', value: [1, 2n] });
    expect(toAttribute('mode', 'constant')).toEqual({ name: 'mode', type: 'string', value: 'constant' });
    expect(toAttribute('e', attr.ints([]))).toEqual({ name: 'e', type: 'ints', value: [] });
    expect(() => toAttribute('e', [])).toThrow(GraphBuildError);
    expect(() => toAttribute('mix', [1, 'a'] as unknown as string[])).toThrow(GraphBuildError);
    expect(() => toAttribute('bad', { x: 1 } as never)).toThrow(GraphBuildError);
  });

  it('rejects graphs that are not well formed', () => {
    const base = () => graph('g').input('x', 'float32', [1]);
    expect(() => base().node('Neg', ['z'], ['y']).output('y').build()).toThrow(/uses 'z' before/);
    expect(() => base().node('Neg', ['x'], ['x']).output('x').build()).toThrow(/defined twice/);
    expect(() => base().node('Neg', ['x'], ['y']).node('Neg', ['x'], ['y']).output('y').build()).toThrow(/defined twice/);
    expect(() => base().node('Neg', ['x'], ['y']).output('q').build()).toThrow(/never produced/);
    expect(() => base().node('Neg', ['x'], ['y']).build()).toThrow(/no outputs/);
    expect(() => base().node('Neg', ['x'], []).output('x').build()).toThrow(/no outputs/);
    expect(() => base().node('', ['x'], ['y'])).toThrow(GraphBuildError);
    expect(() => base().input('', 'float32')).toThrow(GraphBuildError);
    expect(() => base().input('q', 'half' as never)).toThrow(GraphBuildError);
    expect(() => base().initializer('', tensor('float32', [1], [1]))).toThrow(GraphBuildError);
    expect(() => base().node('Custom', ['x'], ['y'], {}, { domain: 'com.example' }).output('y').model()).toThrow(/domain 'com.example'/);
    expect(() => base().node('Neg', ['x'], ['y']).output('y').model({ opset: 0 })).toThrow(GraphBuildError);
    // Optional inputs ('') and outer-scope names are allowed.
    const sub = graph('body').node('Add', ['outer', ''], ['y']).output('y').build({ outerScope: ['outer'] });
    expect(sub.nodes[0]!.inputs).toEqual(['outer', '']);
    // An initializer may double as an input's default value.
    const withDefault = base().initializer('x', tensor('float32', [1], [1])).node('Neg', ['x'], ['y']).output('y').build();
    expect(withDefault.inputs.map((i) => i.name)).toEqual(['x']);
    expect(withDefault.initializers.map((t) => t.name)).toEqual(['x']);
  });

  it('declares every domain it uses and picks the IR version of the opset', () => {
    const m = graph('g').input('x', 'float32', [1]).node('Custom', ['x'], ['y'], {}, { domain: 'com.microsoft' }).output('y')
      .model({ opset: { 'com.microsoft': 1 } });
    expect(m.opsetImports).toEqual([{ domain: 'com.microsoft', version: 1 }, { domain: '', version: 21 }]);
    expect(m.graph.nodes[0]!.domain).toBe('com.microsoft');
    expect([irVersionForOpset(13), irVersionForOpset(17), irVersionForOpset(19), irVersionForOpset(21), irVersionForOpset(23)]).toEqual([7, 8, 9, 10, 11]);
  });

  it('keeps built graphs independent of later builder calls', () => {
    const b = graph('g').input('x', 'float32', [1]).node('Neg', ['x'], ['y']).output('y');
    const first = b.build();
    b.node('Neg', ['y'], ['z']).output('z');
    expect(first.nodes).toHaveLength(1);
    expect(first.outputs).toHaveLength(1);
  });
});
