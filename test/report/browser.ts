import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** What the report tests launch: an executable and what its process needs in its environment. */
export interface ReportBrowser {
  readonly executablePath: string;
  readonly env: Readonly<Record<string, string>>;
}

const PACKAGE = '@sparticuz/chromium';
const HOW_TO_FIX =
  `run npm ci (it installs ${PACKAGE}, Chromium for Linux x64), or set CHROMIUM_PATH to a Chrome or ` +
  'Chromium executable (macOS: "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"; Linux arm64: ' +
  'apt-get install chromium, then /usr/bin/chromium)';

/**
 * The browser the report tests drive: the one CHROMIUM_PATH names, else the Chromium that `npm ci` installs
 * from the npm registry (@sparticuz/chromium: headless shell for Linux x64, with the NSS libraries it needs in
 * al2023.tar.br), unpacked once into node_modules/.cache. Never skipped: a missing browser fails with the fix.
 */
export async function reportBrowser(): Promise<ReportBrowser> {
  const named = process.env.CHROMIUM_PATH;
  if (named) {
    if (!existsSync(named)) throw new Error(`CHROMIUM_PATH is ${named}, which does not exist: ${HOW_TO_FIX}`);
    return { executablePath: named, env: {} };
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`${PACKAGE} has no Chromium for ${process.platform}-${process.arch}: ${HOW_TO_FIX}`);
  }
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(PACKAGE);
  } catch {
    throw new Error(`${PACKAGE} is not installed: ${HOW_TO_FIX}`);
  }
  const packageDir = join(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const cache = fileURLToPath(new URL('../../node_modules/.cache/swing-chromium/', import.meta.url));
  const unpacked = join(cache, version);
  if (!existsSync(join(unpacked, 'chromium'))) await unpack(entry, join(packageDir, 'bin'), cache, unpacked);
  return {
    executablePath: join(unpacked, 'chromium'),
    // The NSS libraries first (a fresh Debian has none), then the SwiftShader GL libraries beside the binary.
    env: {
      LD_LIBRARY_PATH: [join(unpacked, 'al2023', 'lib'), unpacked, process.env.LD_LIBRARY_PATH]
        .filter(Boolean)
        .join(':'),
    },
  };
}

/**
 * Unpacks once for all test files: the first takes a lock file (its pid inside), the others wait for the
 * result, or take over when the holder died. The package's own `inflate` writes under os.tmpdir(), so it runs
 * in a child process whose TMPDIR is a fresh folder, renamed into place when complete.
 */
async function unpack(entry: string, bin: string, cache: string, unpacked: string): Promise<void> {
  mkdirSync(cache, { recursive: true });
  const lock = `${unpacked}.lock`;
  while (!existsSync(join(unpacked, 'chromium'))) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!holderAlive(lock)) rmSync(lock, { force: true });
      else await sleep(250);
      continue;
    }
    try {
      const staging = mkdtempSync(join(cache, 'unpacking-'));
      try {
        const archives = ['chromium.br', 'swiftshader.tar.br', 'al2023.tar.br'].map((name) =>
          join(bin, name),
        );
        const script = `const { inflate } = await import(${JSON.stringify(pathToFileURL(entry).href)});
await Promise.all(${JSON.stringify(archives)}.map((archive) => inflate(archive)));`;
        await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
          env: { ...process.env, TMPDIR: staging },
        });
        renameSync(staging, unpacked);
      } finally {
        rmSync(staging, { recursive: true, force: true });
      }
    } finally {
      rmSync(lock, { force: true });
    }
  }
}

/** Whether the process named in the lock file still runs (an empty file: it is just being written). */
function holderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(lock, 'utf8'));
  } catch {
    return false;
  }
  if (!pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface OpenedReport {
  readonly page: Page;
  /** console.error messages and uncaught page errors. */
  readonly consoleErrors: string[];
  /** Every request that was not for the report file itself: must stay empty. */
  readonly networkRequests: string[];
  close(): Promise<void>;
}

/**
 * Opens a report file in headless Chromium, as a person would from disk, and records console errors and
 * any request beyond the file (each one is blocked). Fails, never skips, when the browser is missing.
 */
export async function openReport(
  file: string,
  viewport = { width: 1200, height: 900 },
): Promise<OpenedReport> {
  const browser = await reportBrowser();
  const userDataDir = mkdtempSync(join(tmpdir(), 'swing-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: browser.executablePath,
      env: { ...process.env, ...browser.env },
      headless: true,
      viewport,
      // As a person's browser has one: without a locale from the system (LANG unset), the headless shell
      // reports en-US@posix, which Intl (uPlot's number format) refuses.
      locale: 'en-US',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  const fileUrl = pathToFileURL(file).href;
  const consoleErrors: string[] = [];
  const networkRequests: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url === fileUrl) return route.continue();
    networkRequests.push(url);
    return route.abort();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  await page.goto(fileUrl, { waitUntil: 'load' });
  return {
    page,
    consoleErrors,
    networkRequests,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
