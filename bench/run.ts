import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { measureBundles } from './bundles.ts';
import { measureAlarmToRestore, measureLocalAlb } from './local.ts';
import { measureReverseCapture } from './reverse.ts';
import { measureStartup } from './startup.ts';
import { measureReplayWait, measureTransitions } from './transitions.ts';

/**
 * `npm run bench`: the cost and speed figures, printed and written to bench/results.json. Targets live here,
 * not in timed tests: a slow CI machine must not fail the build, but a regression must be visible.
 *
 * `npm run bench -- [section ...] [--quick]`: only the sections named; `--quick` runs every section with few
 * trials (CI runs it, so that no section can break unseen) and writes no figures. Exits 1 when a section
 * crashes, after running the others.
 */
const SECTIONS = [
  'transitions',
  'bundles',
  'startup',
  'alarm-latency',
  'local-alb',
  'reverse-capture',
] as const;
type Section = (typeof SECTIONS)[number];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const named = args.filter((arg) => arg !== '--quick');
const unknown = named.filter((arg) => !(SECTIONS as readonly string[]).includes(arg));
if (unknown.length > 0) {
  console.error(`bench: unknown ${unknown.join(', ')}: name sections of ${SECTIONS.join(', ')}, or --quick`);
  process.exit(2);
}
const sections = new Set(named);
const loadAverage = () => loadavg().map((load) => Math.round(load * 10) / 10);
// When and on what: the figures mean little without the machine and how busy it was.
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: availableParallelism(),
  platform: `${process.platform}-${process.arch}`,
  loadAverageAtStart: loadAverage(),
};
const results: Record<string, unknown> = {
  measuredAt: new Date().toISOString(),
  node: process.version,
  machine,
};
const crashed: Section[] = [];

async function section(name: Section, measure: () => Promise<void>): Promise<void> {
  if (sections.size > 0 && !sections.has(name)) return;
  try {
    await measure();
  } catch (error) {
    crashed.push(name);
    console.error(`\nbench: the ${name} section crashed:`, error);
  }
}

await section('transitions', async () => {
  const rows = await measureTransitions(quick ? [1] : undefined);
  console.log('\nState transitions per rollout: Swing (task-token bake) vs a 30 s polling baseline');
  console.table(rows);
  const sameAcrossBakes = [...new Set(rows.map((row) => row.steps))].every((steps) => {
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
});

await section('bundles', async () => {
  const imports = quick ? 2 : 10;
  const rows = await measureBundles(imports);
  console.log(
    `\nHandler bundles (esbuild, ESM, minified) and cold import time (median of ${imports} fresh Node processes)`,
  );
  console.table(rows);
  results.bundles = rows;
});

await section('startup', async () => {
  const runs = quick ? 3 : 15;
  const startup = measureStartup(runs);
  console.log(
    `\nStart-up: \`swing --help\` (built CLI) beside \`node -e 0\`, wall time of fresh processes (${runs} each, interleaved)`,
  );
  console.table(startup.rows);
  console.log(
    `swing --help takes ${startup.ratio}x node -e 0 (median of the pairs' ratios; the target is 3x or less): ${startup.ratio <= 3 ? 'within' : 'OVER'}`,
  );
  results.startup = startup;
});

await section('alarm-latency', async () => {
  const latency = await measureAlarmToRestore(quick ? 3 : 50);
  console.log(
    '\nAlarm state change to starting weights restored, local mode (real engine, real HTTP traffic)',
  );
  console.table([latency]);
  results.alarmToRestore = latency;
});

await section('local-alb', async () => {
  const alb = await measureLocalAlb(quick ? 0.5 : 3);
  console.log(
    '\nLocal ALB stand-in: throughput and latency added over calling the cluster stand-in directly',
  );
  console.table([alb]);
  results.localAlb = alb;
});

await section('reverse-capture', async () => {
  const reverse = await measureReverseCapture(
    quick ? { trials: 1, plan: '50:1s,100:1s', lags: ['100ms'] } : { trials: 3, plan: '50:2s,100:2s' },
  );
  console.log(
    `\nLossless rollback after the cutover, local mode (reads-first, plan ${reverse.plan}, target 503 at half its ` +
      'requests from the cutover): the write freeze per reverse lag (median of the trials)',
  );
  console.table(reverse.frozen);
  console.log('The same run without reverse capture: no freeze, the write exposure');
  console.table([reverse.exposed]);
  results.reverseCapture = reverse;
});

const loadAverageAtEnd = loadAverage();
results.machine = { ...machine, loadAverageAtEnd };
console.log(
  `\nMeasured on ${machine.cpu} (${machine.cores} cores, ${machine.platform}), Node.js ${process.version}; load ` +
    `average (1, 5, 15 min) ${machine.loadAverageAtStart.join(', ')} at the start, ${loadAverageAtEnd.join(', ')} at the end`,
);
if (quick) {
  console.log('\n--quick: few trials, so no figures are written');
} else {
  // A run of some sections (or one where a section crashed) keeps the other sections' last figures.
  const file = new URL('./results.json', import.meta.url);
  const partial = sections.size > 0 || crashed.length > 0;
  const previous = partial && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  writeFileSync(file, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);
  console.log('\nwrote bench/results.json');
}
if (crashed.length > 0) {
  console.error(`\nbench: ${crashed.join(', ')} crashed (above)`);
  process.exitCode = 1;
}
