import { accessSync, constants } from "node:fs";
import { chromium, Browser, LaunchOptions } from "playwright-core";

/**
 * Debian's Chromium (`apt-get install -y chromium`; `.ci/run` installs it). playwright-core never
 * downloads a browser, and nothing here asks it to: the binary is always this one.
 */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * How Chromium runs on these machines (headless, as root, on a closed network). Without the
 * background-networking flags Chromium keeps trying to reach Google's hosts. Playwright gives each
 * launch a fresh, empty user data directory of its own (passing --user-data-dir to `launch` is
 * refused by Playwright), which is the "fresh --user-data-dir" these flags go with.
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Fewer processes (the suite's peak memory, `npm run bench:suite-memory`): no zygotes (the sandbox
  // is off anyway), the GPU and network service in the browser process, one renderer at a time;
  // --single-process puts the renderers in the browser process too (about 700 MB to 340 MB), at the
  // price of one browser context per launch: a closed context ends the browser.
  // Chromium reads only the last --enable-features, so this one repeats the two Playwright sets.
  "--no-zygote",
  "--in-process-gpu",
  "--renderer-process-limit=1",
  "--disable-site-isolation-trials",
  "--single-process",
  "--enable-features=NetworkServiceInProcess2,CDPScreenshotNewSurface,SkipListAccountsWithoutGaiaCookies",
];

export function chromiumLaunchOptions(): LaunchOptions {
  return { executablePath: CHROMIUM_PATH, headless: true, chromiumSandbox: false, args: CHROMIUM_ARGS, timeout: 30_000 };
}

/**
 * Why the browser tests cannot run here, or undefined when they can. With CI=true a missing
 * Chromium is a failure (this throws): CI must not go green by skipping the browser.
 */
export function chromiumUnavailable(): string | undefined {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return undefined;
  } catch {
    const reason = `Chromium is not installed at ${CHROMIUM_PATH} (install it with: apt-get install -y chromium)`;
    if (process.env.CI === "true") throw new Error(`${reason}; CI=true requires the browser tests to run`);
    return reason;
  }
}

export type LaunchedChromium = { browser: Browser; reason?: undefined } | { browser: undefined; reason: string };

/**
 * Starts headless Chromium, or answers `{ browser: undefined, reason }` when the binary is missing
 * (and CI is not true; under CI=true a missing binary throws). A binary that is there but fails to
 * start always throws: that is a broken machine, not a skip.
 */
export async function launchChromium(): Promise<LaunchedChromium> {
  const reason = chromiumUnavailable();
  if (reason !== undefined) return { browser: undefined, reason };
  return { browser: await chromium.launch(chromiumLaunchOptions()) };
}

/**
 * `describe` when Chromium can run, `describe.skip` with a warning that says why when it cannot
 * (outside CI). Under CI=true a missing Chromium fails the test file at load.
 */
export function describeWithChromium(title: string, body: () => void): void {
  const reason = chromiumUnavailable();
  if (reason === undefined) {
    describe(title, body);
    return;
  }
  console.warn(`\nSKIPPING browser tests "${title}": ${reason}. With CI=true this is a failure.\n`);
  describe.skip(title, body);
}
