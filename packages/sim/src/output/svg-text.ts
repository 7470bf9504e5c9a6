// Text in server-rendered SVG has no layout engine to measure it: these estimate a label's box generously (wider
// than most sans-serif fonts draw it), so a chart laid out with them does not overlap, and a test can check it.

/** Average advance of a sans-serif character, in em; generous (real fonts average about 0.55). */
const EM_PER_CHAR = 0.62;

/** The estimated width of `text` at `fontSize` px. */
export function textWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * EM_PER_CHAR;
}

/** `text` cut to fit `maxWidth` px at `fontSize`, ending in an ellipsis when cut. */
export function fitText(text: string, fontSize: number, maxWidth: number): string {
  if (textWidth(text, fontSize) <= maxWidth) return text;
  const chars = [...text];
  const keep = Math.max(0, Math.floor(maxWidth / (fontSize * EM_PER_CHAR)) - 1);
  return `${chars.slice(0, keep).join('')}…`;
}

export interface Box {
  /** What drew it: the text, or `rect`. */
  what: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
}

function unescape(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/**
 * The boxes of the `<text>` and `<rect>` elements of an SVG (not rotated, not nested in transformed groups), text
 * boxes from `textWidth`. Font sizes come from a `font-size` attribute, else from `classSizes` by class, else
 * `defaultSize`; `text-anchor` from the attribute or `classAnchors`.
 */
export function svgBoxes(svg: string, options: { defaultSize?: number; classSizes?: Record<string, number>; classAnchors?: Record<string, 'start' | 'middle' | 'end'> } = {}): Box[] {
  const boxes: Box[] = [];
  for (const m of svg.matchAll(/<text\b([^>]*)>([^<]*)/g)) {
    const tag = m[1] as string;
    const text = unescape(m[2] as string);
    if (!text.trim()) continue;
    const cls = attr(tag, 'class');
    const size = Number(attr(tag, 'font-size') ?? (cls && options.classSizes?.[cls]) ?? options.defaultSize ?? 12);
    const anchor = attr(tag, 'text-anchor') ?? (cls && options.classAnchors?.[cls]) ?? 'start';
    const width = textWidth(text, size);
    const x = Number(attr(tag, 'x') ?? 0);
    const left = anchor === 'end' ? x - width : anchor === 'middle' ? x - width / 2 : x;
    // A baseline at y: ascenders reach about 0.8 em above it, descenders 0.2 em below.
    boxes.push({ what: text, x: left, y: Number(attr(tag, 'y') ?? 0) - size * 0.8, width, height: size });
  }
  for (const m of svg.matchAll(/<rect\b([^>]*)>/g)) {
    const tag = m[1] as string;
    // Backgrounds (no position) and frames (no fill) are meant to have labels on them.
    if (attr(tag, 'x') === undefined || attr(tag, 'fill') === 'none') continue;
    const width = Number(attr(tag, 'width') ?? 0);
    const height = Number(attr(tag, 'height') ?? 0);
    boxes.push({ what: 'rect', x: Number(attr(tag, 'x') ?? 0), y: Number(attr(tag, 'y') ?? 0), width, height });
  }
  return boxes;
}

/** Whether two boxes share any area. */
export function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Every pair of overlapping boxes where at least one is text (a label over a bar, or two labels), for tests. */
export function overlappingLabels(boxes: readonly Box[]): [Box, Box][] {
  const out: [Box, Box][] = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i] as Box;
      const b = boxes[j] as Box;
      if ((a.what !== 'rect' || b.what !== 'rect') && overlaps(a, b)) out.push([a, b]);
    }
  }
  return out;
}
