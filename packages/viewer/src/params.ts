// Reads the page's URL parameters against the values the controls allow. A
// value the viewer cannot use is never silently replaced: it yields a message
// the page shows (and a speed between two allowed ones plays at the nearest).

export interface PageParams {
  scenario: string;
  mode: 'demo' | 'radio';
  /** One of the speed control's values ('max' or a factor as text). */
  speed: string;
  trace: string | null;
  autostart: boolean;
  /** Map tiles may be fetched (?tiles=off never fetches one). */
  tiles: boolean;
  /** Problems that stop the page from doing what the URL asks (it starts nothing). */
  errors: string[];
  /** Adjustments the page made and says so. */
  notices: string[];
}

export interface Allowed {
  scenarios: readonly string[];
  speeds: readonly string[];
  defaultScenario: string;
  defaultSpeed: string;
}

const MODES = ['demo', 'radio'] as const;

/** The allowed speed nearest to a factor (by ratio: 7 is nearer 10 than 1). */
export function nearestSpeed(factor: number, speeds: readonly string[]): string {
  const numeric = speeds.filter((s) => s !== 'max');
  let best = numeric[0]!;
  for (const s of numeric) if (Math.abs(Math.log(Number(s) / factor)) < Math.abs(Math.log(Number(best) / factor))) best = s;
  return best;
}

export function readParams(params: URLSearchParams, allowed: Allowed): PageParams {
  const errors: string[] = [];
  const notices: string[] = [];
  let scenario = allowed.defaultScenario;
  const wanted = params.get('scenario');
  if (wanted !== null) {
    if (allowed.scenarios.includes(wanted)) scenario = wanted;
    else errors.push(`unknown scenario "${wanted}" in the URL; the scenarios are ${allowed.scenarios.join(', ')}`);
  }
  let mode: PageParams['mode'] = 'demo';
  const m = params.get('mode');
  if (m !== null) {
    if ((MODES as readonly string[]).includes(m)) mode = m as PageParams['mode'];
    else errors.push(`unknown mode "${m}" in the URL; use mode=demo or mode=radio`);
  }
  let speed = allowed.defaultSpeed;
  const sp = params.get('speed');
  if (sp !== null) {
    const factor = Number(sp.replace(/x$/i, ''));
    if (allowed.speeds.includes(sp)) speed = sp;
    else if (sp !== '' && Number.isFinite(factor) && factor > 0) {
      speed = nearestSpeed(factor, allowed.speeds);
      notices.push(`speed ${sp} is not one of ${allowed.speeds.join(', ')}: playing at ${speed}x, the nearest`);
    } else errors.push(`speed "${sp}" in the URL is not a speed; use one of ${allowed.speeds.join(', ')}`);
  }
  const tilesParam = params.get('tiles');
  if (tilesParam !== null && tilesParam !== 'on' && tilesParam !== 'off') errors.push(`tiles "${tilesParam}" in the URL: use tiles=on or tiles=off`);
  const trace = params.get('trace');
  if (trace === '') errors.push('trace= in the URL names no file');
  return { scenario, mode, speed, trace: trace || null, autostart: params.get('autostart') === '1', tiles: tilesParam !== 'off', errors, notices };
}
