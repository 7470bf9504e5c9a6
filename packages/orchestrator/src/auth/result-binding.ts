/**
 * What a worker signs about a result: which assignment it answers (owner, job, shard, attempt, the CRC of the input
 * the owner sent) and what it returned (output CRC and length), under its own key. Anyone holding the worker's public
 * key can check it, so a redundant-execution vote can be verified by a third party, and a result cannot be moved to
 * another assignment or another input.
 */
export interface ResultBinding {
  owner: number;
  worker: number;
  jobId: number;
  shard: number;
  attempt: number;
  inputCrc: number;
  outputCrc: number;
  length: number;
  workerKey: Uint8Array;
}

const DOMAIN = new TextEncoder().encode('cmp-result1');

export function resultBindingBytes(b: ResultBinding): Uint8Array {
  const out = new Uint8Array(DOMAIN.length + 4 * 7 + 1 + 32);
  out.set(DOMAIN, 0);
  const v = new DataView(out.buffer);
  let pos = DOMAIN.length;
  for (const n of [b.owner, b.worker, b.jobId, b.shard]) {
    v.setUint32(pos, n >>> 0, true);
    pos += 4;
  }
  v.setUint8(pos++, b.attempt & 0xff);
  for (const n of [b.inputCrc, b.outputCrc, b.length]) {
    v.setUint32(pos, n >>> 0, true);
    pos += 4;
  }
  out.set(b.workerKey.subarray(0, 32), pos);
  return out;
}
