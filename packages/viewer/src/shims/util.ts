// See os.ts: the logger formats its arguments and recognises errors.
export function formatWithOptions(_options: unknown, ...args: unknown[]): string {
  return args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? `${a.name}: ${a.message}` : JSON.stringify(a))).join(' ');
}
export const types = { isNativeError: (e: unknown): e is Error => e instanceof Error };
export default { formatWithOptions, types };
