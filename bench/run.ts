import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { measureBundles } from './bundles.ts';
import { measureAlarmToRestore, measureLocalAlb } from './local.ts';
import { measureStartup } from './startup.ts';
import { measureReplayWait, measureTransitions } from './transitions.ts';

/**
 * `npm run bench`: the cost and speed figures, printed and written to bench/results.json. Targets live here,
 * not in timed tests: a slow CI machine must not fail the build, but a regression must be visible.
 */
const sections = new Set(process.argv.slice(2));
const want = (name: string) => sections.size === 0 || sections.has(name);
const results: Record<string, unknown> = { measuredAt: new Date().toISOString(), node: process.version };

if (want('transitions')) {
  const rows = await measureTransitions();
  console.log('\nState transitions per rollout: Swing (task-token bake) vs a 30 s polling baseline');
  console.table(rows);
  const sameAcrossBakes = [1, 5, 10].every((steps) => {
    const [short, long] = rows.filter((row) => row.steps === steps);
    return short?.swing === long?.swing && short?.readsFirst === long?.readsFirst;
  });
  console.log(
    `Swing's count (both traffic modes) is the same at bake 1 min and 1 h for every plan: ${sameAcrossBakes ? 'yes' : 'NO'}`,
  );
  const replayWait = await measureReplayWait();
  console.log(
    '\nReads-first: a one-step rollout that waits for the replayer (event-driven, a task token), by wait length',
  );
  console.table(replayWait);
  results.transitions = { rows, sameAcrossBakes, replayWait };
}

if (want('bundles')) {
  const rows = await measureBundles();
  console.log(
    '\nHandler bundles (esbuild, ESM, minified) and cold import time (median of 10 fresh Node processes)',
  );
  console.table(rows);
  results.bundles = rows;
}

if (want('startup')) {
  const rows = measureStartup();
  console.log(
    '\nStart-up: `swing --help` (built CLI) beside `node -e 0`, wall time of fresh processes (15 each)',
  );
  console.table(rows);
  results.startup = rows;
}

if (want('alarm-latency')) {
  const latency = await measureAlarmToRestore();
  console.log(
    '\nAlarm state change to starting weights restored, local mode (real engine, real HTTP traffic)',
  );
  console.table([latency]);
  results.alarmToRestore = latency;
}

if (want('local-alb')) {
  const alb = await measureLocalAlb();
  console.log(
    '\nLocal ALB stand-in: throughput and latency added over calling the cluster stand-in directly',
  );
  console.table([alb]);
  results.localAlb = alb;
}

// A run of some sections keeps the other sections' last figures.
const file = new URL('./results.json', import.meta.url);
const previous = sections.size > 0 && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
writeFileSync(file, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);
console.log('\nwrote bench/results.json');
