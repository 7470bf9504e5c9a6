// Measures the sensors' VAD gate on the acoustic story's clips (from the demo's cache; a cold cache makes them first):
// for hangovers and pre-rolls around the default, each head's detections and false accepts against the ungated
// pipeline, and the share of 80 ms steps the speech-embedding model runs on.
//
//   pnpm --filter @compotastic/demo vad-gate [-- --small] [--cache DIR]

import { resolve } from 'node:path';
import { loadKernel } from '@compotastic/kernel';
import { DEFAULT_CACHE, prepareAcoustic } from './acoustic.js';
import { heldOutScore } from './acoustic-story.js';
import { type GateOptions, VAD_HANGOVER_MS, embeddedCount, gateSchedule } from './vad-gate.js';

const args = process.argv.slice(2);
const at = args.indexOf('--cache');
const cacheDir = at >= 0 && args[at + 1] ? resolve(args[at + 1]!) : DEFAULT_CACHE;
const kernel = await loadKernel({ build: 'auto' });
const kit = await prepareAcoustic({ kernel, scale: args.includes('--small') ? 'small' : 'full', cacheDir, say: (l) => console.error(l) });
const clips = [...kit.before, ...kit.heldOut];
const heads = [[kit.base.name, kit.base.parts], [kit.keyword.name, kit.keyword.parts]] as const;

console.log(`${clips.length} clips, kernel ${kernel.build} build`);
console.log('| gate | ' + heads.map(([h]) => `${h} detected | ${h} false accepts`).join(' | ') + ' | embedding ran on |');
console.log('|---|' + heads.map(() => '---|---|').join('') + '---|');
const gates: [string, GateOptions | 'ungated'][] = [
  ['ungated', 'ungated'],
  ...[96, 160, 320, 480, VAD_HANGOVER_MS, 800].map((h): [string, GateOptions] => [`hangover ${h} ms${h === VAD_HANGOVER_MS ? ' (default)' : ''}`, { hangoverMs: h }]),
  ['no pre-roll', { preRoll: 0 }],
  ['pre-roll 8 steps', { preRoll: 8 }],
];
for (const [label, gate] of gates) {
  const cells = heads.map(([h, parts]) => {
    const r = heldOutScore(kernel, parts, h, clips, gate);
    return `${r.detected}/${r.positives} | ${r.falseAccepts}/${r.negatives}`;
  });
  let steps = 0, ran = 0;
  for (const c of clips) {
    const s = gateSchedule(c, 16, gate);
    steps += s.steps;
    ran += embeddedCount(s);
  }
  console.log(`| ${label} | ${cells.join(' | ')} | ${ran}/${steps} (${((100 * ran) / steps).toFixed(1)}%) |`);
}
