/**
 * Writes the smallest ONNX model that runs one int8 GEMM: MatMulInteger(A, B, a_zero_point, b_zero_point) -> Y.
 * Only the handful of protobuf fields a ModelProto needs are encoded (field numbers from onnx.proto3), so no
 * protobuf library is required on high-compute nodes that use onnxruntime-web.
 */

const ONNX_UINT8 = 2;
const ONNX_INT8 = 3;

class Proto {
  private parts: number[] = [];

  private varint(v: number): void {
    let x = v;
    while (x >= 0x80) {
      this.parts.push((x & 0x7f) | 0x80);
      x = Math.floor(x / 128);
    }
    this.parts.push(x);
  }

  private key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, v: number): this {
    this.key(field, 0);
    this.varint(v);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2);
    this.varint(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }

  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  msg(field: number, m: Proto): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function valueInfo(name: string, elemType: number, dims: number[]): Proto {
  const shape = new Proto();
  for (const d of dims) shape.msg(1, new Proto().int(1, d));
  const tensorType = new Proto().int(1, elemType).msg(2, shape);
  return new Proto().str(1, name).msg(2, new Proto().msg(1, tensorType));
}

function scalarInitializer(name: string, elemType: number, value: number): Proto {
  return new Proto().int(2, elemType).str(8, name).bytes(9, Uint8Array.of(value & 0xff));
}

export interface MatMulIntegerModelOptions {
  m: number;
  k: number;
  n: number;
  aType: 'uint8' | 'int8';
  bType: 'uint8' | 'int8';
  aZeroPoint: number;
  bZeroPoint: number;
}

/** ONNX ModelProto bytes (IR 7, opset 13) with graph inputs "A" and "B" and int32 output "Y". */
export function matMulIntegerModel(o: MatMulIntegerModelOptions): Uint8Array {
  const at = o.aType === 'int8' ? ONNX_INT8 : ONNX_UINT8;
  const bt = o.bType === 'int8' ? ONNX_INT8 : ONNX_UINT8;
  const node = new Proto().str(1, 'A').str(1, 'B').str(1, 'a_zp').str(1, 'b_zp').str(2, 'Y').str(3, 'gemm').str(4, 'MatMulInteger');
  const graph = new Proto()
    .msg(1, node)
    .str(2, 'compotastic-gemm')
    .msg(5, scalarInitializer('a_zp', at, o.aZeroPoint))
    .msg(5, scalarInitializer('b_zp', bt, o.bZeroPoint))
    .msg(11, valueInfo('A', at, [o.m, o.k]))
    .msg(11, valueInfo('B', bt, [o.k, o.n]))
    .msg(12, valueInfo('Y', 6, [o.m, o.n]));
  return new Proto()
    .int(1, 7)
    .str(2, 'compotastic')
    .msg(7, graph)
    .msg(8, new Proto().str(1, '').int(2, 13))
    .finish();
}
