import type { NodeEvent, NodeStatus } from './core/runtime.js';

// What `compotastic node` shows: on a terminal, a live screen (this node, a peers table like `meshtastic --nodes`,
// its jobs and OTA progress bars); otherwise one line per event, as text or (--json) as JSON.

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length);
}

function ago(s: number): string {
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

/** A progress bar of `width` cells for 0..100. */
export function bar(percent: number, width = 24): string {
  const p = Math.max(0, Math.min(100, Math.round(percent)));
  const full = Math.round((p / 100) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(p).padStart(3)}%`;
}

/** Renders the live view as plain text (the caller clears the screen before writing it). */
export function renderStatus(s: NodeStatus): string {
  const lines: string[] = [];
  const r = s.radio;
  lines.push(`node ${s.id}  kernel ${s.kernelBuild}  image ${s.image.model} v${s.image.version} (slot ${s.image.slot}, ${s.image.state})`);
  lines.push(`radio ${r.region} ${r.preset}  hop limit ${r.hopLimit}  channel ${r.channelUtilPct.toFixed(1)}%  tx ${r.txUtilPct.toFixed(1)}%${r.portBlocked ? '  PORT BLOCKED by this radio\'s rebroadcast mode' : ''}${r.fallbackPortnum !== undefined ? `  speaking on port ${r.fallbackPortnum} (this radio's rebroadcast mode drops the main port)` : ''}`);
  lines.push(`state ${s.stateDir}`);
  lines.push('');
  const cols: Array<[string, number]> = [['ID', 10], ['NAME', 16], ['CLASS', 16], ['HOPS', 5], ['SNR', 6], ['BATTERY', 8], ['MODEL', 9], ['JOBS', 5], ['LAST HEARD', 10]];
  lines.push(`peers (${s.peers.length})`);
  lines.push(cols.map(([h, w]) => pad(h, w)).join(' ').trimEnd());
  for (const p of s.peers) {
    const cells = [
      p.id, p.name ?? '', p.deviceClass ?? '?', p.hops === null ? '?' : String(p.hops), p.snr === null ? '' : p.snr.toFixed(1), p.battery === null ? 'ext' : `${p.battery}%`,
      p.model ?? '-', p.acceptsJobs === null ? '?' : p.acceptsJobs ? 'yes' : 'no', ago(p.lastHeardS),
    ];
    lines.push(cells.map((c, i) => pad(c, cols[i]![1])).join(' ').trimEnd());
  }
  if (s.peers.length === 0) lines.push('  (none heard yet: adverts come every few minutes)');
  lines.push('');
  lines.push(`jobs (${s.jobs.length})`);
  for (const j of s.jobs.slice(-8)) {
    lines.push(`  ${pad(j.tag ?? String(j.id), 24)} ${pad(j.status, 8)} ${j.done}/${j.shards} shards${j.plan ? `  ${j.plan}` : ''}${j.reason ? `  ${j.reason}` : ''}`);
  }
  lines.push('');
  const rx = s.ota.receiving;
  lines.push('ota');
  lines.push(`  receiving  ${rx.state === 'idle' ? 'idle' : `${bar(rx.percent)}  ${rx.state}${rx.reason !== 'NONE' ? ` (${rx.reason})` : ''}`}`);
  const tx = s.ota.publishing;
  if (tx) lines.push(`  publishing v${tx.version} ${tx.bundleBytes} B to ${tx.targets.length || 'all'} receivers: ${tx.packets} packets sent`);
  else if (s.ota.lastPublish) {
    const lp = s.ota.lastPublish;
    const done = lp.receivers.filter((x) => x.state === 'complete').length;
    lines.push(`  last publish: ${lp.complete ? 'complete' : 'incomplete'}, ${done}/${lp.receivers.length} receivers done, ${lp.rounds} rounds`);
  }
  return `${lines.join('\n')}\n`;
}

/** One event as a log line. */
export function formatEvent(e: NodeEvent, json: boolean, t: number): string {
  if (json) return `${JSON.stringify({ t, ...e })}\n`;
  const { type, ...rest } = e;
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
  return `${new Date(t).toISOString()} ${type} ${fields}\n`;
}
