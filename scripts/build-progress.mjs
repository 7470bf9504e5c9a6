#!/usr/bin/env node
// `turbo run build` with one line per task as it finishes, so a first build (minutes) is never silent, while the
// compilers' own output is shown in full only when it says something (errors, warnings). Arguments go to turbo as
// they are. The task count comes from turbo's own plan (`--dry=json`), which includes the dependencies a --filter
// pulls in: turbo's "Running build in N packages" counts only the filtered packages.

import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// Lines of a task's log that say nothing: blank lines, pnpm's "> pkg@version script" header, turbo's cache notes.
const BOILERPLATE = /^(\s*|> .*|cache (miss|bypass|hit).*)$/;

/**
 * The tasks turbo plans to run, from the JSON of `turbo run build --dry=json`: their count and how many are
 * already in turbo's cache.
 */
export function plannedTasks(dryJson) {
  const plan = JSON.parse(dryJson);
  if (!Array.isArray(plan?.tasks)) throw new TypeError('turbo --dry=json gave no "tasks" list');
  const tasks = plan.tasks.filter((t) => t.task === 'build' || String(t.taskId).endsWith('#build'));
  return { total: tasks.length, cached: tasks.filter((t) => t.cache?.status === 'HIT').length };
}

/**
 * Turns turbo's grouped, new-only log into progress: returns a function taking one line of turbo's output and giving
 * back the lines to print. With --log-order=grouped turbo prints a task's log when the task ends, so the first line of
 * a task is the moment it finished. `plan` is plannedTasks' result (undefined when the plan could not be read);
 * `now` is the wall clock in ms (injected by tests).
 */
export function progressFilter(plan, now = Date.now) {
  const started = now();
  const finished = new Set();
  return (line) => {
    if (/^\s*• Running build in/.test(line)) {
      if (!plan) return ['building: one line as each package finishes (a first build takes minutes)'];
      const todo = plan.total - plan.cached;
      const s = plan.total === 1 ? '' : 's';
      return [`building ${plan.total} package${s} (${todo} to compile, ${plan.cached} already built): one line as each finishes`];
    }
    const task = /^(\S+):build: ?(.*)$/.exec(line);
    if (task) {
      const [, pkg, rest] = task;
      const out = [];
      if (!finished.has(pkg)) {
        finished.add(pkg);
        const cached = /^cache hit/.test(rest);
        const secs = Math.round((now() - started) / 1000);
        const total = plan ? Math.max(plan.total, finished.size) : '?';
        out.push(`[${finished.size}/${total}] ${pkg}${cached ? ' (already built)' : ''}  ${secs} s`);
      }
      if (!BOILERPLATE.test(rest)) out.push(`    ${rest}`);
      return out;
    }
    // turbo's banner lines are noise here; its summary and its errors are not.
    if (/^\s*•/.test(line) || line.trim() === '') return [];
    return [line];
  };
}

/** Runs the build through `turbo` (a path) with `args`, writing progress to `write`; resolves to turbo's exit code. */
export function runBuild(turbo, args, write = (text) => process.stderr.write(text)) {
  const dry = spawnSync(turbo, ['run', 'build', '--dry=json', ...args], { encoding: 'utf8' });
  let plan;
  try {
    if (dry.status === 0) plan = plannedTasks(dry.stdout);
  } catch {
    plan = undefined; // progress without a total is still progress; the build itself reports what is wrong
  }
  const child = spawn(turbo, ['run', 'build', '--output-logs=new-only', '--log-order=grouped', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const filter = progressFilter(plan);
  createInterface({ input: child.stdout }).on('line', (line) => {
    for (const l of filter(line)) write(`${l}\n`);
  });
  child.stderr.on('data', (chunk) => write(String(chunk)));
  return new Promise((resolve) => {
    child.on('error', (error) => {
      write(`could not start turbo (${turbo}): ${error.message}\n`);
      resolve(1);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const turbo = fileURLToPath(new URL('../node_modules/.bin/turbo', import.meta.url));
  process.exitCode = await runBuild(turbo, process.argv.slice(2));
}
