/**
 * `deno task lzsync demo-push`: commits to the local (sample) Landing Zone and delivers a signed webhook to
 * the running gateway, so a newcomer watches the commit arrive live on the status page.
 */
import { loadConfig } from "./config.ts";
import { commandHelp } from "./cli.ts";
import { demoPush } from "../connectors/github/mod.ts";

/** Runs `demo-push [--url http://127.0.0.1:8080] [--message TEXT]`; returns the exit code. */
export async function demoPushCommand(args: string[]): Promise<number> {
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (args.includes("--help") || args.includes("-h")) {
    console.log(commandHelp("demo-push"));
    return 0;
  }
  const runtime = await loadConfig();
  const r = await demoPush(runtime, { gatewayUrl: opt("--url"), message: opt("--message") });
  const ok = r.status >= 200 && r.status < 300;
  console.log(
    ok
      ? `committed ${
        r.commit.slice(0, 12)
      } and delivered webhook ${r.deliveryId} to ${r.url}: ${r.status}; watch it on the status page`
      : `committed ${r.commit.slice(0, 12)} but the gateway at ${r.url} answered ${r.status}: ${
        JSON.stringify(r.response)
      }`,
  );
  return ok ? 0 : 1;
}
