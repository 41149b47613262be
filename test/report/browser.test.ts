import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportBrowser } from './browser.ts';

describe('The report tests’ browser', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('fails, naming CHROMIUM_PATH and the fix, when CHROMIUM_PATH names nothing', async () => {
    vi.stubEnv('CHROMIUM_PATH', '/nonexistent/chromium');
    await expect(reportBrowser()).rejects.toThrow(
      /CHROMIUM_PATH is \/nonexistent\/chromium, which does not exist: run npm ci .* or set CHROMIUM_PATH/,
    );
  });

  it('without CHROMIUM_PATH, is the Chromium that npm ci installed, with its NSS libraries on LD_LIBRARY_PATH', async () => {
    vi.stubEnv('CHROMIUM_PATH', '');
    const browser = await reportBrowser();
    expect(browser.executablePath).toMatch(/node_modules\/\.cache\/swing-chromium\/[\d.]+\/chromium$/);
    expect(browser.env.LD_LIBRARY_PATH?.split(':')[0]).toMatch(/swing-chromium\/[\d.]+\/al2023\/lib$/);
  }, 120_000);
});
