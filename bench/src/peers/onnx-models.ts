// The ONNX models the ONNX Runtime peers run, built in memory. Weights and
// quantization parameters are constant initializers, so ONNX Runtime can
// pre-pack them when the session is created, as it would for a real model.

import { encodeModel, graph, tensor } from '@compotastic/model';

const OPSET = 21;

/** Y = MatMulInteger(A uint8 [M, K], B int8 [K, N] constant, aZeroPoint constant). */
export function matmulIntegerModel(m: number, k: number, n: number, weights: Int8Array, aZeroPoint: number, aType: 'uint8' | 'int8' = 'uint8'): Uint8Array {
  return encodeModel(graph('matmul_integer')
    .input('A', aType, [m, k])
    .initializer('B', tensor('int8', [k, n], weights))
    .initializer('a_zero_point', tensor(aType, [], [aZeroPoint]))
    .node('MatMulInteger', ['A', 'B', 'a_zero_point'], ['Y'])
    .output('Y', 'int32', [m, n])
    .model({ opset: OPSET }));
}

/** y = QuantizeLinear(x float32 [n], scale, zeroPoint) to uint8. */
export function quantizeModel(n: number, scale: number, zeroPoint: number): Uint8Array {
  return encodeModel(graph('quantize_linear')
    .input('x', 'float32', [n])
    .initializer('scale', tensor('float32', [], [scale]))
    .initializer('zero_point', tensor('uint8', [], [zeroPoint]))
    .node('QuantizeLinear', ['x', 'scale', 'zero_point'], ['y'])
    .output('y', 'uint8', [n])
    .model({ opset: OPSET }));
}

/** y = DequantizeLinear(x uint8 [n], scale, zeroPoint) to float32. */
export function dequantizeModel(n: number, scale: number, zeroPoint: number): Uint8Array {
  return encodeModel(graph('dequantize_linear')
    .input('x', 'uint8', [n])
    .initializer('scale', tensor('float32', [], [scale]))
    .initializer('zero_point', tensor('uint8', [], [zeroPoint]))
    .node('DequantizeLinear', ['x', 'scale', 'zero_point'], ['y'])
    .output('y', 'float32', [n])
    .model({ opset: OPSET }));
}

/** (y, y_scale, y_zero_point) = DynamicQuantizeLinear(x float32 [n]). */
export function dynamicQuantizeModel(n: number): Uint8Array {
  return encodeModel(graph('dynamic_quantize_linear')
    .input('x', 'float32', [n])
    .node('DynamicQuantizeLinear', ['x'], ['y', 'y_scale', 'y_zero_point'])
    .output('y', 'uint8', [n])
    .output('y_scale', 'float32', [])
    .output('y_zero_point', 'uint8', [])
    .model({ opset: OPSET }));
}
