#!/usr/bin/env node
// pnpm start: runs the demo end to end in the simulator, narrates it, writes
// the trace and a summary, and with --serve serves the web viewer on localhost
// with the trace ready to replay.

import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKernel } from '@compotastic/kernel';
import { enableRelaxedSimd } from '@compotastic/kernel/node';
import { SimError, resolveScenario, runHeader, validateScenario, type ScenarioConfig, type TraceEvent } from '@compotastic/sim';
import { listBuiltinScenarios, loadScenario } from '@compotastic/sim/node';
import { spawnSync } from 'node:child_process';
import { type AcousticScale, DEFAULT_CACHE, prepareAcoustic, speechToolsPresent } from './acoustic.js';
import { type AcousticKit, type AcousticSummary, runDemo, type DemoStep, type DemoSummary } from './demo.js';

interface Args {
  scenario: string;
  seed?: number;
  overrides: Record<string, unknown>;
  withWorkload: boolean;
  out: string;
  serve: number | null;
  quiet: boolean;
  json: boolean;
  acoustic: AcousticScale | 'off';
  cache: string | null;
}

const USAGE = `usage: pnpm start [-- options]
  --scenario NAME|FILE   scenario (default disaster-zone)
  --seed S               simulation seed (default: the scenario's)
  --set path=value       override any scenario field (repeatable), e.g. --set nodes.count=60
  --with-workload        also run the scenario's own job stream (app.jobs)
  --out DIR              where the trace and summary go (default out)
  --serve [PORT]         afterwards, serve the web viewer with the trace on http://127.0.0.1:PORT (default 5173)
  --acoustic full|small|off
                         the acoustic story (wake-word detections, a new keyword over the air): full (default), a small
                         one (few clips, a tiny head), or none
  --cache DIR            where clip embeddings, VAD outputs and trained heads are cached (default node_modules/.cache/compotastic-demo)
  --quiet                no progress bar or narration
  --json                 print the summary as JSON`;

function parseArgs(argv: string[]): Args {
  const a: Args = { scenario: 'disaster-zone', overrides: {}, withWorkload: false, out: 'out', serve: null, quiet: false, json: false, acoustic: 'full', cache: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) fail(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--':
        break;
      case '--scenario':
        a.scenario = value();
        break;
      case '--seed': {
        const v = Number(value());
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) fail('--seed needs an integer 0..2^32-1');
        a.seed = v;
        break;
      }
      case '--set': {
        const v = value();
        const eq = v.indexOf('=');
        if (eq < 1) fail(`--set needs path=value, got ${v}`);
        const raw = v.slice(eq + 1);
        let parsed: unknown = raw;
        try {
          parsed = JSON.parse(raw);
        } catch {
          // a plain string
        }
        a.overrides[v.slice(0, eq)] = parsed;
        break;
      }
      case '--with-workload':
        a.withWorkload = true;
        break;
      case '--out':
        a.out = value();
        break;
      case '--serve': {
        const next = argv[i + 1];
        if (next !== undefined && /^\d+$/.test(next)) {
          a.serve = Number(next);
          if (a.serve < 1 || a.serve > 65535) fail(`--serve needs a port 1..65535, got ${next}`);
          i++;
        } else {
          a.serve = 5173;
        }
        break;
      }
      case '--acoustic': {
        const v = value();
        if (v !== 'full' && v !== 'small' && v !== 'off') fail(`--acoustic needs full, small or off, got ${v}`);
        a.acoustic = v;
        break;
      }
      case '--cache':
        a.cache = value();
        break;
      case '--quiet':
        a.quiet = true;
        break;
      case '--json':
        a.json = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        fail(`unknown option ${arg}`);
    }
  }
  return a;
}

/** A usage mistake: one line saying what is wrong and where to look, exit code 2. */
function fail(message: string): never {
  console.error(`error: ${message} (see --help)`);
  process.exit(2);
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** A one-line progress bar on stderr (only on a terminal). */
class Progress {
  private last = '';
  constructor(private readonly enabled: boolean) {}
  update(simMs: number, untilMs: number): void {
    if (!this.enabled) return;
    const f = Math.min(1, simMs / Math.max(1, untilMs));
    const width = 30;
    const bar = '='.repeat(Math.round(f * width)).padEnd(width, ' ');
    const line = `[${bar}] ${(f * 100).toFixed(0).padStart(3)}%  simulated ${clock(simMs)} / ${clock(untilMs)}`;
    if (line !== this.last) process.stderr.write(`\r${line}`);
    this.last = line;
  }
  clear(): void {
    if (this.enabled && this.last) process.stderr.write(`\r${' '.repeat(this.last.length)}\r`);
    this.last = '';
  }
}

function printSummary(s: DemoSummary, tracePath: string, events: number): void {
  const j = s.jobs;
  const lines = [
    '',
    `Summary: ${s.scenario}, seed ${s.seed}, ${s.nodes} nodes, ${clock(s.simulatedS * 1000)} simulated, kernel ${s.kernelBuild}`,
    `  model         vibration-mlp v1 ${(s.model.v1.floatAccuracy * 100).toFixed(1)}% / v2 ${(s.model.v2.floatAccuracy * 100).toFixed(1)}% held-out accuracy (float); int8 parts ${s.model.v2.bytes} B`,
    `  discovery     each node knows ${(s.discovery.coverage * 100).toFixed(1)}% of the others (${s.discovery.pairs} pairs)`,
    `  jobs          ${j.submitted} submitted, ${j.done} done, ${j.failed} failed, ${j.lost} lost, ${j.ownerOffline} not done (owner switched off); results checked against the plain-TS reference ${j.verified}, mismatches ${j.mismatches}; recovered ${j.recovered}`,
    `  latency       p50 ${(j.latencyMs.p50 / 1000).toFixed(1)} s, p95 ${(j.latencyMs.p95 / 1000).toFixed(1)} s, max ${(j.latencyMs.max / 1000).toFixed(1)} s; plans ${Object.entries(j.plans).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ];
  for (const st of s.story) {
    lines.push(`  ${st.tag.padEnd(17)} ${st.owner}: ${st.status}, plan ${st.plan}${st.workers.length ? ` on ${st.workers.join(', ')}` : ''}, ${st.attempts} attempt(s)` +
      (st.latencyMs !== null ? `, ${(st.latencyMs / 1000).toFixed(1)} s` : '') +
      (st.predicted ? `, ${st.predicted} (truth ${st.truth}), ${st.matchesReference ? 'equals the reference computation' : 'DIFFERS from the reference computation'}` : ''));
  }
  const refused = (dropped: Record<string, number>): string => {
    const n = Object.values(dropped).reduce((a, b) => a + b, 0);
    return n ? ` (${n} more refused by the radio)` : '';
  };
  for (const o of s.ota) {
    const last = o.installedAfterMs.length ? ` (the last after ${(Math.max(...o.installedAfterMs) / 1000).toFixed(0)} s)` : '';
    lines.push(`  OTA ${o.label.padEnd(13)} ${o.bundleBytes} B bundle (${o.encodings}); ${o.installed.length}/${o.targets} installed and confirmed${last}; ${o.packets} packets, ${(o.airtimeMs / 1000).toFixed(1)} s airtime${refused(o.dropped)}`);
  }
  if (s.ota.length === 0) lines.push('  OTA           no rollout (no Jetson-class node parked within radio range of nodes to update)');
  const ac = s.acoustic;
  if (ac) {
    const h = ac.heldOut;
    const byKeyword = (k: string) => ac.detections.filter((d) => d.keyword === k).length;
    lines.push(`  acoustic      ${ac.asked.join(', ')} near ${ac.laptop} listen (${ac.baseHead}, int8, energy gate, Silero VAD); ${ac.clips.played} clips played, gate shut on ${ac.clips.gateClosed}; ` +
      `detections ${ac.baseHead} ${byKeyword(ac.baseHead)}, ${ac.keyword} ${byKeyword(ac.keyword)} (DETECTION ${ac.detectionBytes} B, ${Math.max(0, ...ac.detections.map((d) => d.payloadBytes ?? 0))} B signed, heard by ${ac.detections.reduce((n, d) => n + d.heardBy, 0)} peers in all)`);
    const v = ac.vad.reduce((t, x) => ({ steps: t.steps + x.steps, embedded: t.embedded + x.embedded, vadFrames: t.vadFrames + x.vadFrames }), { steps: 0, embedded: 0, vadFrames: 0 });
    const pct = (n: number, of: number) => `${of ? ((100 * n) / of).toFixed(1) : '0.0'}%`;
    lines.push(`  VAD gate      the embedding ran on ${v.embedded} of ${v.steps} 80 ms steps heard (${pct(v.embedded, v.steps)}; ` +
      `${ac.vad.map((x) => `${x.sensor} ${x.embedded}/${x.steps}`).join(', ')}), Silero on ${v.vadFrames} frames of 32 ms; ${ac.vad[0]?.hangoverMs ?? 0} ms hangover`);
    const b = (n: number) => `${n.toLocaleString('en')} B`;
    lines.push(`  sensor models ${ac.models.map((m) => `${m.name} ${b(m.weightsBytes)} weights (bundle ${b(m.bundleBytes)}), peak arena ${b(m.peakArenaBytes)}`).join('; ')}`);
    // The budget of an ESP32-S3 with PSRAM (the model package's): the embedding in 2 MiB of PSRAM, the rest in 512 KiB of SRAM.
    const need = (m?: AcousticSummary['models'][number]) => (m ? m.bundleBytes + m.peakArenaBytes : 0);
    const embedding = ac.models.find((m) => m.name === 'speech embedding'), vad = ac.models.find((m) => m.name.startsWith('Silero'));
    const heads = ac.models.filter((m) => m !== embedding && m !== vad).map(need);
    lines.push(`  ESP32-S3      PSRAM: the embedding, bundle + arena ${b(need(embedding))} of 2 MiB; internal SRAM: the VAD and the larger head, bundles + arenas ${b(need(vad) + Math.max(0, ...heads))} of 512 KiB`);
    if (ac.bundle) {
      lines.push(`  new keyword   ${ac.phone} asked ${ac.laptop} for ${ac.keyword}; bundle ${ac.bundle.bytes} B as sent (${ac.bundle.parts.map((p) => `${p.name} ${p.encoding} ${p.bytes} B`).join(', ')}), ${ac.bundle.fullBytes} B full; ` +
        `${ac.rollouts.length} rollout(s), ${ac.rollouts.reduce((n, o) => n + o.packets, 0)} packets, ${(ac.rollouts.reduce((n, o) => n + o.airtimeMs, 0) / 1000).toFixed(1)} s airtime; ${ac.updated.length}/${ac.asked.length} asking sensors updated`);
    } else {
      lines.push(`  new keyword   not rolled out (${ac.request.atMs === null ? 'the request never reached the laptop' : 'no bundle'})`);
    }
    lines.push(`  ${ac.keyword.padEnd(13)} held out: detected ${h.detected}/${h.positives} (${(h.detectionRate * 100).toFixed(1)}%), false accepts ${h.falseAccepts}/${h.negatives} clips (${h.negativeSeconds.toFixed(0)} s of negatives)` +
      (h.missed.length ? `; missed ${h.missed.join(', ')}` : '') + (h.accepted.length ? `; accepted ${h.accepted.join(', ')}` : ''));
  }
  lines.push(`  radio         ${s.radio.transmissions} transmissions, ${s.radio.collisions} collisions, channel utilization ${s.radio.channelUtilizationPct.toFixed(1)}%`);
  lines.push(`  trace         ${tracePath} (${events} events)`);
  console.log(lines.join('\n'));
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
  '.json': 'application/json', '.jsonl': 'application/x-ndjson', '.svg': 'image/svg+xml', '.png': 'image/png',
};

/** Serves the viewer's static build and the output folder (for the trace) on localhost. */
function serve(viewerDist: string, outDir: string, port: number, traceName: string): void {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)).replace(/^([/\\])+/, '');
    const fromOut = join(outDir, path);
    const file = path && path.endsWith('.jsonl') && existsSync(fromOut) ? fromOut : join(viewerDist, path || 'index.html');
    const root = file === fromOut ? outDir : viewerDist;
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  server.on('error', (e) => {
    console.error(`error: cannot serve on 127.0.0.1:${port}: ${e.message}`);
    process.exitCode = 1;
  });
  server.listen(port, '127.0.0.1', () => {
    console.log(`\nviewer: http://127.0.0.1:${port}/?trace=${encodeURIComponent(traceName)}  (live runs: http://127.0.0.1:${port}/) - Ctrl-C to stop`);
  });
}

/** Resolves once `port` is free on 127.0.0.1, so a busy port is refused before the run rather than after it. */
function checkPortFree(port: number): Promise<void> {
  return new Promise((res, rej) => {
    const probe: Server = createServer();
    probe.once('error', (e) => rej(new Error(`cannot serve on 127.0.0.1:${port}: ${e.message}`)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => res()));
  });
}

/**
 * The scenario named on the command line, with its overrides checked: every mistake is caught before any work. With
 * it, the trace's run header (scenario, seed, version) for the scenario as the overrides leave it.
 */
async function checkedScenario(args: Args, cwd: string): Promise<{ scenario: ScenarioConfig; header: TraceEvent }> {
  try {
    const config = await loadScenario(listBuiltinScenarios().includes(args.scenario) ? args.scenario : resolve(cwd, args.scenario));
    const applied = validateScenario(config, args.overrides);
    return { scenario: config, header: runHeader(resolveScenario(applied), args.seed) };
  } catch (e) {
    if (e instanceof SimError) fail(e.message);
    throw e;
  }
}

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The acoustic story's models and clips, from the cache or made now (saying so). espeak-ng and sox are installed the
 * way the tests install them when this process may; otherwise the run says how and tells the vibration story alone.
 */
async function acousticKit(scale: AcousticScale, cacheDir: string, kernel: Awaited<ReturnType<typeof loadKernel>>, say: (line: string) => void): Promise<AcousticKit | undefined> {
  if (!speechToolsPresent()) {
    say('espeak-ng and sox are missing; installing them');
    spawnSync(process.execPath, [resolve(here, '../../../scripts/system-packages.mjs'), 'espeak-ng', 'sox'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (!speechToolsPresent()) {
      say('espeak-ng and sox are not installed (sudo apt-get install -y espeak-ng sox); the vibration story runs alone');
      return undefined;
    }
  }
  const started = Date.now();
  let cold = false;
  const kit = await prepareAcoustic({
    kernel, scale, cacheDir, say: (line) => {
      if (!cold) say(`building what the cache (${cacheDir}) does not hold yet; a warm run skips this`);
      cold = true;
      say(line);
    },
  });
  if (cold) say(`ready in ${((Date.now() - started) / 1000).toFixed(0)} s (${kit.cache.misses} made, ${kit.cache.hits} from the cache)`);
  return kit;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const { scenario, header } = await checkedScenario(args, cwd);
  const viewerDist = resolve(here, '../../viewer/dist');
  if (args.serve !== null) {
    if (!existsSync(join(viewerDist, 'index.html'))) fail(`the viewer is not built (${viewerDist}); run pnpm build`);
    await checkPortFree(args.serve).catch((e: Error) => fail(e.message));
  }
  enableRelaxedSimd();
  const outDir = resolve(cwd, args.out);
  mkdirSync(outDir, { recursive: true });
  const tracePath = join(outDir, 'demo-trace.jsonl');
  const summaryPath = join(outDir, 'demo-summary.json');
  // The previous trace stays whole until this run has finished its own: a failed run leaves it untouched.
  const partialPath = join(outDir, `.demo-trace.jsonl.${process.pid}.partial`);
  const trace = createWriteStream(partialPath);
  trace.write(JSON.stringify(header) + '\n');
  let events = 0;
  const progress = new Progress(!args.quiet && process.stderr.isTTY === true);
  const say = (s: DemoStep): void => {
    if (args.quiet || args.json) return;
    progress.clear();
    console.log(`[${clock(s.t)}] ${s.kind.padEnd(10)} ${s.text}`);
  };
  let summary: DemoSummary;
  try {
    const kernel = await loadKernel({ build: 'auto' });
    if (!args.quiet && !args.json) console.log(`Compotastic demo: ${args.scenario}${args.seed !== undefined ? `, seed ${args.seed}` : ''} (kernel ${kernel.build} build)`);
    const acoustic = args.acoustic === 'off' ? undefined : await acousticKit(args.acoustic, args.cache ? resolve(cwd, args.cache) : DEFAULT_CACHE, kernel, (line) => {
      if (!args.quiet && !args.json) console.log(`  acoustic: ${line}`);
    });
    summary = await runDemo({
      acoustic,
      scenario,
      seed: args.seed, overrides: args.overrides, withWorkload: args.withWorkload, kernel,
      trace: (e) => {
        events++;
        trace.write(JSON.stringify(e) + '\n');
      },
      onProgress: (t, until) => progress.update(t, until),
      onStep: say,
    });
    progress.clear();
    await new Promise<void>((res, rej) => trace.end((err?: Error | null) => (err ? rej(err) : res())));
    renameSync(partialPath, tracePath);
  } catch (e) {
    trace.destroy();
    rmSync(partialPath, { force: true });
    throw e;
  }
  writeFileSync(summaryPath, JSON.stringify(summary, null, 2) + '\n');
  if (args.json) console.log(JSON.stringify(summary, null, 2));
  else {
    printSummary(summary, tracePath, events);
    console.log(`  summary       ${summaryPath}`);
  }
  const ok = summary.jobs.lost === 0 && summary.jobs.mismatches === 0;
  if (args.serve !== null) {
    serve(viewerDist, outDir, args.serve, 'demo-trace.jsonl');
    return;
  }
  process.exitCode = ok ? 0 : 1;
}

await main().catch((e: unknown) => {
  // Expected failures (a file that cannot be written, a port taken meanwhile) say so in one line; a bug keeps its stack.
  if (e instanceof SimError || (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string')) {
    console.error(`error: ${e.message}`);
    process.exitCode = 1;
  } else throw e;
});
