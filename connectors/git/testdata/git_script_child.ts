/**
 * A child for `cli_test.ts`: runs one git script with {@link runGitScript} (the script sleeps, then writes
 * `$1`), prints `started`, and waits for it, so the test can SIGKILL this process's whole group mid-script.
 */
import { runGitScript } from "../cli.ts";

const [marker] = Deno.args;
const run = runGitScript('sleep 1 && "$GIT" --version >"$1"', [marker]);
console.log("started");
await run;
