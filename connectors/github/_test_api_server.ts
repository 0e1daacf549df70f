/**
 * A local stand-in for the two GitHub REST endpoints lzsync calls (there is no GitHub here): commit statuses
 * (`POST /repos/{owner}/{repo}/statuses/{sha}`, recorded) and comparisons
 * (`GET /repos/{owner}/{repo}/compare/{base}...{head}`), answered from a real bare repo with
 * `git diff --name-status` in GitHub's response shape. Requests need `Authorization: token <token>`.
 */
export interface RecordedStatus {
  owner: string;
  repo: string;
  sha: string;
  body: { state: string; context: string; description?: string; target_url?: string };
}

/** A running API server. */
export interface TestApiServer {
  url: string;
  statuses: RecordedStatus[];
  /** Calls of the compare endpoint. */
  compares: number;
  stop(): Promise<void>;
}

const STATUS: Record<string, string> = {
  A: "added",
  M: "modified",
  D: "removed",
  R: "renamed",
  C: "copied",
  T: "changed",
};

/** Starts the server; `repos` maps `owner/repo` to a bare git dir. */
export function startTestApiServer(
  o: { token: string; repos: Record<string, string>; failStatuses?: number },
): TestApiServer {
  const statuses: RecordedStatus[] = [];
  let compares = 0;
  let failStatuses = o.failStatuses ?? 0;
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json; charset=utf-8" },
    });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    if (req.headers.get("authorization") !== `token ${o.token}`) {
      await req.body?.cancel();
      return json(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
    }
    let m = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(url.pathname);
    if (m && req.method === "POST") {
      const body = await req.json();
      if (failStatuses > 0) {
        failStatuses--;
        return json(502, { message: "Server Error" });
      }
      if (!o.repos[`${m[1]}/${m[2]}`]) return json(404, { message: "Not Found" });
      statuses.push({ owner: m[1], repo: m[2], sha: m[3], body });
      return json(201, { id: statuses.length, state: body.state, context: body.context });
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/compare\/([0-9a-f]{40})\.\.\.([0-9a-f]{40})$/.exec(url.pathname);
    if (m && req.method === "GET") {
      compares++;
      const gitdir = o.repos[`${m[1]}/${m[2]}`];
      if (!gitdir) return json(404, { message: "Not Found" });
      const out = await new Deno.Command("git", {
        args: ["--git-dir", gitdir, "diff", "--name-status", "-M", `${m[3]}...${m[4]}`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!out.success) return json(404, { message: "No common ancestor between base and head" });
      const files = new TextDecoder().decode(out.stdout).trim().split("\n").filter(Boolean).map((line) => {
        const [code, a, b] = line.split("\t");
        const status = STATUS[code[0]] ?? "modified";
        return status === "renamed" ? { filename: b, previous_filename: a, status } : { filename: a, status };
      });
      return json(200, { status: "ahead", total_commits: 1, files });
    }
    await req.body?.cancel();
    return json(404, { message: "Not Found" });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    statuses,
    get compares() {
      return compares;
    },
    stop: () => server.shutdown(),
  };
}
