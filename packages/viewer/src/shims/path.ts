// See os.ts: the logger only normalizes file paths for display.
export function normalize(p: string): string {
  return p;
}
export default { normalize };
