/**
 * A local stand-in for the GitHub REST endpoints lzsync calls (there is no GitHub here): commit statuses
 * (`POST /repos/{owner}/{repo}/statuses/{sha}`, recorded), the combined status of a commit
 * (`GET /repos/{owner}/{repo}/commits/{ref}/status`: the latest recorded status per context, paged with
 * `per_page`/`page` as GitHub pages it) and comparisons (`GET /repos/{owner}/{repo}/compare/{base}...{head}`),
 * answered from a real bare repo with `git diff --name-status` in GitHub's response shape. Requests need
 * `Authorization: token <token>`.
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
  /** Calls of the combined-status endpoint. */
  statusReads: number;
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
  let statusReads = 0;
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
    m = /^\/repos\/([^/]+)\/([^/]+)\/commits\/([0-9a-f]{40})\/status$/.exec(url.pathname);
    if (m && req.method === "GET") {
      statusReads++;
      if (!o.repos[`${m[1]}/${m[2]}`]) return json(404, { message: "Not Found" });
      const latest = new Map<string, { id: number } & RecordedStatus["body"]>();
      statuses.forEach((s, i) => {
        if (s.owner === m![1] && s.repo === m![2] && s.sha === m![3]) {
          latest.set(s.body.context, { id: i + 1, ...s.body });
        }
      });
      const all = [...latest.values()].reverse(); // newest first
      const perPage = Number(url.searchParams.get("per_page") ?? 30);
      const page = Number(url.searchParams.get("page") ?? 1);
      const state = all.length === 0
        ? "pending"
        : all.some((s) => s.state === "error" || s.state === "failure")
        ? "failure"
        : all.every((s) => s.state === "success")
        ? "success"
        : "pending";
      return json(200, {
        state,
        sha: m[3],
        total_count: all.length,
        statuses: all.slice((page - 1) * perPage, page * perPage).map((s) => ({
          id: s.id,
          state: s.state,
          context: s.context,
          description: s.description ?? null,
          target_url: s.target_url ?? null,
        })),
      });
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
    get statusReads() {
      return statusReads;
    },
    stop: () => server.shutdown(),
  };
}
