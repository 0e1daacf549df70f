/**
 * Makes sure Debian's Chromium is installed for the browser tests (playwright-core drives it; we never
 * download a browser build of our own). Installs it with apt-get when missing and we are root.
 */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Launch arguments for headless Chromium on these machines (closed network, running as root). */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function sh(cmd: string): Promise<void> {
  const out = await new Deno.Command("sh", {
    args: ["-c", cmd],
    stdout: "piped",
    stderr: "piped",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).output();
  if (!out.success) {
    throw new Error(`${cmd} failed (exit ${out.code}): ${new TextDecoder().decode(out.stderr).slice(-1500)}`);
  }
}

/** Returns the Chromium path, installing the Debian package first when it is missing. */
export async function ensureChromium(): Promise<string> {
  if (await exists(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (Deno.uid?.() !== 0) {
    throw new Error(`${CHROMIUM_PATH} is missing; install it with: sudo apt-get install -y chromium`);
  }
  await sh("apt-get update -qq && apt-get install -y -qq chromium");
  if (!(await exists(CHROMIUM_PATH))) {
    throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} is absent`);
  }
  return CHROMIUM_PATH;
}
