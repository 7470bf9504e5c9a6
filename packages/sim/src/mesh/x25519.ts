/**
 * X25519 (RFC 7748) public keys, so each virtual node carries a real Curve25519 key pair as firmware 2.5+ nodes do.
 * Only key derivation is needed (nothing is encrypted), so a plain BigInt Montgomery ladder is enough.
 */
const P = (1n << 255n) - 19n;
const A24 = 121665n;

const LOW = (1n << 255n) - 1n;

/**
 * a mod P for 0 <= a < 2^512 (a product of two values below 2P): 2^255 = 19 (mod P), so the bits above 255 fold back
 * times 19, twice, and one subtraction finishes. No BigInt division: that was most of a key derivation's time.
 */
function mod(a: bigint): bigint {
  let r = (a & LOW) + (a >> 255n) * 19n;
  r = (r & LOW) + (r >> 255n) * 19n;
  return r >= P ? r - P : r;
}

function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = mod(result * b);
    b = mod(b * b);
    e >>= 1n;
  }
  return result;
}

function toLittleEndianBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i] as number);
  return v;
}

function fromBigInt(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let x = v;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** X25519(scalar, u): the RFC 7748 scalar multiplication with clamping. */
export function x25519(scalar: Uint8Array, u: Uint8Array): Uint8Array {
  const k = scalar.slice(0, 32);
  k[0] = (k[0] as number) & 248;
  k[31] = ((k[31] as number) & 127) | 64;
  const kn = toLittleEndianBigInt(k);
  const uBytes = u.slice(0, 32);
  uBytes[31] = (uBytes[31] as number) & 127;
  const x1 = toLittleEndianBigInt(uBytes);
  let x2 = 1n;
  let z2 = 0n;
  let x3 = x1;
  let z3 = 1n;
  let swap = 0n;
  for (let t = 254n; t >= 0n; t--) {
    const bit = (kn >> t) & 1n;
    swap ^= bit;
    if (swap) {
      [x2, x3] = [x3, x2];
      [z2, z3] = [z3, z2];
    }
    swap = bit;
    const a = mod(x2 + z2);
    const aa = mod(a * a);
    const b = mod(x2 - z2 + P);
    const bb = mod(b * b);
    const e = mod(aa - bb + P);
    const c = mod(x3 + z3);
    const d = mod(x3 - z3 + P);
    const da = mod(d * a);
    const cb = mod(c * b);
    const g = da + cb;
    x3 = mod(g * g);
    const f = mod(da - cb + P);
    z3 = mod(x1 * mod(f * f));
    x2 = mod(aa * bb);
    z2 = mod(e * mod(aa + A24 * e));
  }
  if (swap) {
    [x2, x3] = [x3, x2];
    [z2, z3] = [z3, z2];
  }
  return fromBigInt(mod(x2 * pow(z2, P - 2n)));
}

const BASE_POINT = (() => {
  const b = new Uint8Array(32);
  b[0] = 9;
  return b;
})();

/** The public key of a 32-byte private key. */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  return x25519(privateKey, BASE_POINT);
}
