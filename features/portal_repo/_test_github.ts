/**
 * A local stand-in for the GitHub endpoints pull-request mode calls (there is no GitHub here), over a real
 * bare repo of the test git server. Minimal and honest: it keeps pull requests in memory, refuses what GitHub
 * refuses (a second open pull request for the same head, a head branch that does not exist, bad credentials),
 * and a merge really merges in the repo (`git merge-tree`, then a squash commit on the base branch, moved by
 * compare-and-swap). Every request is recorded for request-by-request assertions.
 *
 * - `GET /repos/{o}/{r}/pulls?state&head=o:branch&base`, `POST /repos/{o}/{r}/pulls`,
 *   `PATCH /repos/{o}/{r}/pulls/{n}` (title, body, state), `PUT /repos/{o}/{r}/pulls/{n}/merge`
 * - `POST /graphql` with `enablePullRequestAutoMerge`: with `requiredChecks` the pull request gets
 *   `auto_merge`; without, GitHub's answer "Pull request is in clean status" (nothing to wait for).
 */

/** One recorded request. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Record<string, unknown> | null;
}

/** A pull request held by the server. */
export interface FakePull {
  number: number;
  node_id: string;
  head: string;
  base: string;
  title: string;
  body: string;
  state: "open" | "closed";
  merged: boolean;
  auto_merge: { merge_method: string } | null;
}

/** A running server. */
export interface FakeGitHub {
  url: string;
  requests: RecordedRequest[];
  pulls: FakePull[];
  /** Whether the repo has required checks (auto-merge waits) or not (GitHub says "clean status"). */
  requiredChecks: boolean;
  stop(): Promise<void>;
}

async function git(gitdir: string, ...args: string[]): Promise<{ ok: boolean; out: string }> {
  const r = await new Deno.Command("git", {
    args: ["--git-dir", gitdir, ...args],
    stdout: "piped",
    stderr: "piped",
    env: {
      GIT_AUTHOR_NAME: "GitHub",
      GIT_AUTHOR_EMAIL: "noreply@github.com",
      GIT_COMMITTER_NAME: "GitHub",
      GIT_COMMITTER_EMAIL: "noreply@github.com",
    },
  }).output();
  return { ok: r.success, out: new TextDecoder().decode(r.success ? r.stdout : r.stderr).trim() };
}

/** Starts the server for `owner/repo` backed by the bare repo `gitdir`; requests need `token <token>`. */
export function startFakeGitHub(
  o: { owner: string; repo: string; gitdir: string; token: string },
): FakeGitHub {
  const requests: RecordedRequest[] = [];
  const pulls: FakePull[] = [];
  const state = { requiredChecks: false };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json; charset=utf-8" },
    });
  const rest = (p: FakePull) => ({
    number: p.number,
    node_id: p.node_id,
    html_url: `https://github.example/${o.owner}/${o.repo}/pull/${p.number}`,
    state: p.state,
    title: p.title,
    body: p.body,
    merged: p.merged,
    auto_merge: p.auto_merge,
    head: { ref: p.head },
    base: { ref: p.base },
  });
  const prefix = `/repos/${o.owner}/${o.repo}/pulls`;

  const merge = async (p: FakePull, method: string) => {
    const base = (await git(o.gitdir, "rev-parse", `refs/heads/${p.base}`)).out;
    const head = (await git(o.gitdir, "rev-parse", `refs/heads/${p.head}`)).out;
    const tree = await git(o.gitdir, "merge-tree", "--write-tree", base, head);
    if (!tree.ok) return json(405, { message: "Pull Request is not mergeable" });
    const parents = method === "merge" ? ["-p", base, "-p", head] : ["-p", base];
    const commit = await git(
      o.gitdir,
      "commit-tree",
      tree.out.split("\n")[0],
      ...parents,
      "-m",
      `${p.title} (#${p.number})`,
    );
    const moved = await git(o.gitdir, "update-ref", `refs/heads/${p.base}`, commit.out, base);
    if (!moved.ok) return json(409, { message: "Base branch was modified. Review and try the merge again." });
    p.state = "closed";
    p.merged = true;
    return json(200, { sha: commit.out, merged: true, message: "Pull Request successfully merged" });
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const body = req.body ? await req.json().catch(() => null) : null;
    requests.push({
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
    });
    if (req.headers.get("authorization") !== `token ${o.token}`) {
      return json(401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
    }
    if (url.pathname === "/graphql" && req.method === "POST") {
      const q = String(body?.query ?? "");
      const p = pulls.find((x) => x.node_id === body?.variables?.id);
      if (!q.includes("enablePullRequestAutoMerge") || !p) {
        return json(200, {
          data: null,
          errors: [{ type: "NOT_FOUND", message: "Could not resolve to a node" }],
        });
      }
      if (!state.requiredChecks) {
        return json(200, {
          data: { enablePullRequestAutoMerge: null },
          errors: [{ type: "UNPROCESSABLE", message: "Pull request is in clean status" }],
        });
      }
      p.auto_merge = { merge_method: String(body.variables.mergeMethod).toLowerCase() };
      return json(200, { data: { enablePullRequestAutoMerge: { pullRequest: { number: p.number } } } });
    }
    if (url.pathname === prefix && req.method === "GET") {
      const head = url.searchParams.get("head")?.replace(`${o.owner}:`, "");
      const base = url.searchParams.get("base");
      const st = url.searchParams.get("state") ?? "open";
      return json(
        200,
        pulls.filter((p) =>
          (!head || p.head === head) && (!base || p.base === base) && (st === "all" || p.state === st)
        )
          .map(rest),
      );
    }
    if (url.pathname === prefix && req.method === "POST") {
      const { head, base, title } = body ?? {};
      if (!(await git(o.gitdir, "rev-parse", "--verify", `refs/heads/${head}`)).ok) {
        return json(422, { message: "Validation Failed", errors: [{ field: "head", code: "invalid" }] });
      }
      if (pulls.some((p) => p.state === "open" && p.head === head && p.base === base)) {
        return json(422, {
          message: `Validation Failed: A pull request already exists for ${o.owner}:${head}.`,
        });
      }
      const p: FakePull = {
        number: pulls.length + 1,
        node_id: `PR_node${pulls.length + 1}`,
        head,
        base,
        title,
        body: body.body ?? "",
        state: "open",
        merged: false,
        auto_merge: null,
      };
      pulls.push(p);
      return json(201, rest(p));
    }
    const m = new RegExp(`^${prefix}/(\\d+)(/merge)?$`).exec(url.pathname);
    const p = m ? pulls.find((x) => x.number === Number(m[1])) : undefined;
    if (m && !p) return json(404, { message: "Not Found" });
    if (p && !m![2] && req.method === "PATCH") {
      if (typeof body?.title === "string") p.title = body.title;
      if (typeof body?.body === "string") p.body = body.body;
      if (body?.state === "closed" || body?.state === "open") p.state = body.state;
      return json(200, rest(p));
    }
    if (p && m![2] && req.method === "PUT") {
      if (p.state !== "open") return json(405, { message: "Pull Request is not mergeable" });
      return await merge(p, String(body?.merge_method ?? "merge"));
    }
    return json(404, { message: "Not Found" });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    pulls,
    get requiredChecks() {
      return state.requiredChecks;
    },
    set requiredChecks(v: boolean) {
      state.requiredChecks = v;
    },
    stop: () => server.shutdown(),
  };
}
