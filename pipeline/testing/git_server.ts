/**
 * A real git smart-HTTP server for tests: `git http-backend` (CGI) behind a small `Deno.serve` on
 * 127.0.0.1. Clients (the git CLI, isomorphic-git) clone, fetch and push over HTTP exactly as against a
 * hosted git server; repositories are bare repos under `root`.
 *
 * Test helpers make commits through the server itself: each repo has a private work clone under
 * `root/.work/<name>` that is reset to the server's branch head, edited, committed and pushed over HTTP
 * (so every helper push goes through `git-receive-pack` like a user's push).
 */
import { dirname, join } from "node:path";

/** Credentials the server demands when set: `Authorization: Bearer <token>` or Basic with password `<token>`. */
export interface GitServerAuth {
  token: string;
}

/** Options of {@link startGitServer}. */
export interface GitServerOptions {
  /** Directory holding the bare repos; default a fresh temp dir, removed by `stop()`. */
  root?: string;
  /** Require a token for every request (clone and push). */
  auth?: GitServerAuth;
}

/** Options of {@link GitServer.commitAndPush}. */
export interface CommitOptions {
  /** Branch to commit on (default `main`); created from `parent` (or the default branch) when missing. */
  branch?: string;
  /** Build the commit on top of this sha instead of the branch head, and force-push (a history rewrite). */
  parent?: string;
  author?: { name: string; email: string };
  /** Commit date (author and committer), e.g. `2024-01-02T03:04:05Z`. */
  date?: string;
}

/** A running git smart-HTTP server. */
export interface GitServer {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly baseUrl: string;
  /** Directory of the bare repos. */
  readonly root: string;
  /** Clone URL of a repo: `<baseUrl>/<name>.git`. */
  url(repoName: string): string;
  /** Creates a bare repo with one initial commit holding `files` on `main`; returns the commit sha. */
  createRepo(name: string, files: Record<string, string>, options?: CommitOptions): Promise<string>;
  /** Writes (text or bytes) or deletes (null) files, commits and pushes over HTTP; returns the new commit sha. */
  commitAndPush(
    name: string,
    files: Record<string, string | Uint8Array | null>,
    message: string,
    options?: CommitOptions,
  ): Promise<string>;
  /** Deletes a branch on the server (a push of `:branch`). */
  deleteBranch(name: string, branch: string): Promise<void>;
  /** The server's current head of `branch`, or undefined when the branch does not exist. */
  head(name: string, branch?: string): Promise<string | undefined>;
  /** Number of HTTP requests served (for asserting that a client really went over the wire). */
  readonly requests: number;
  /** Stops the server, waits for every CGI child, removes a temp root. */
  stop(): Promise<void>;
}

const DEFAULT_AUTHOR = { name: "lzsync test", email: "test@lzsync.invalid" };

async function git(args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command("git", {
    args,
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  })
    .output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `git ${args.join(" ")} failed (exit ${out.code}): ${dec.decode(out.stderr).slice(-2000)}`,
    );
  }
  return dec.decode(out.stdout).trim();
}

function authorized(req: Request, auth: GitServerAuth | undefined): boolean {
  if (!auth) return true;
  const h = req.headers.get("authorization") ?? "";
  if (h.startsWith("Bearer ")) return h.slice(7) === auth.token;
  if (h.startsWith("Basic ")) {
    try {
      const decoded = atob(h.slice(6));
      return decoded.slice(decoded.indexOf(":") + 1) === auth.token;
    } catch {
      return false;
    }
  }
  return false;
}

function indexOfHeaderEnd(buf: Uint8Array): { at: number; len: number } | undefined {
  for (let i = 0; i + 1 < buf.length; i++) {
    if (buf[i] === 10 && buf[i + 1] === 10) return { at: i, len: 2 };
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) {
      return { at: i, len: 4 };
    }
  }
  return undefined;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Runs `git http-backend` for one request and turns its CGI output into a streamed Response. */
async function cgi(req: Request, root: string, track: (p: Promise<unknown>) => void): Promise<Response> {
  const url = new URL(req.url);
  const env: Record<string, string> = {
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: "1",
    GIT_CONFIG_COUNT: "2",
    GIT_CONFIG_KEY_0: "http.receivepack",
    GIT_CONFIG_VALUE_0: "true",
    GIT_CONFIG_KEY_1: "receive.denyDeleteCurrent",
    GIT_CONFIG_VALUE_1: "ignore",
    PATH_INFO: decodeURIComponent(url.pathname),
    REQUEST_METHOD: req.method,
    QUERY_STRING: url.search.slice(1),
    REMOTE_ADDR: "127.0.0.1",
    REMOTE_USER: "lzsync-test",
    SERVER_PROTOCOL: "HTTP/1.1",
  };
  const ct = req.headers.get("content-type");
  if (ct) env.CONTENT_TYPE = ct;
  const ce = req.headers.get("content-encoding");
  if (ce) env.HTTP_CONTENT_ENCODING = ce;
  const gp = req.headers.get("git-protocol");
  if (gp) env.GIT_PROTOCOL = gp;
  const child = new Deno.Command("git", {
    args: ["http-backend"],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  const writing = (async () => {
    try {
      if (req.body) await req.body.pipeTo(child.stdin);
      else await child.stdin.close();
    } catch { /* client went away; the CGI sees EOF */ }
  })();
  const done = Promise.all([child.status, stderrText, writing]);
  track(done);

  const reader = child.stdout.getReader();
  let head: Uint8Array = new Uint8Array(0);
  let end: { at: number; len: number } | undefined;
  while (!(end = indexOfHeaderEnd(head))) {
    const { value, done: eof } = await reader.read();
    if (eof) {
      const [status, err] = await done;
      return new Response(`git http-backend exited ${status.code} without headers: ${err}`, { status: 500 });
    }
    head = concat(head, value);
  }
  const headerText = new TextDecoder().decode(head.subarray(0, end.at));
  const rest = head.subarray(end.at + end.len);
  const headers = new Headers();
  let status = 200;
  for (const line of headerText.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const k = line.slice(0, i).trim();
    const v = line.slice(i + 1).trim();
    if (k.toLowerCase() === "status") status = Number(v.split(" ")[0]);
    else headers.append(k, v);
  }
  const body = new ReadableStream<Uint8Array>({
    start(ctl) {
      if (rest.length) ctl.enqueue(rest);
    },
    async pull(ctl) {
      const { value, done: eof } = await reader.read();
      if (eof) ctl.close();
      else ctl.enqueue(value);
    },
    async cancel() {
      await reader.cancel();
    },
  });
  return new Response(status === 204 || status === 304 ? null : body, { status, headers });
}

/** Starts a git smart-HTTP server on 127.0.0.1 with a free port. */
export async function startGitServer(options: GitServerOptions = {}): Promise<GitServer> {
  const ownRoot = !options.root;
  const root = options.root ?? await Deno.makeTempDir({ prefix: "lzsync-git-" });
  await Deno.mkdir(join(root, ".work"), { recursive: true });
  const inflight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    inflight.add(p);
    p.finally(() => inflight.delete(p)).catch(() => {});
  };
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    requests++;
    if (!authorized(req, options.auth)) {
      return new Response("authentication required\n", {
        status: 401,
        headers: { "www-authenticate": 'Basic realm="lzsync-test-git"' },
      });
    }
    return cgi(req, root, track);
  });
  const baseUrl = `http://127.0.0.1:${server.addr.port}`;
  const url = (name: string) => `${baseUrl}/${name}.git`;
  const authEnv: Record<string, string> = options.auth
    ? {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "http.extraHeader",
      GIT_CONFIG_VALUE_0: `Authorization: Bearer ${options.auth.token}`,
    }
    : {};
  const commitEnv = (o: CommitOptions = {}) => {
    const a = o.author ?? DEFAULT_AUTHOR;
    const env: Record<string, string> = {
      ...authEnv,
      GIT_AUTHOR_NAME: a.name,
      GIT_AUTHOR_EMAIL: a.email,
      GIT_COMMITTER_NAME: a.name,
      GIT_COMMITTER_EMAIL: a.email,
    };
    if (o.date) env.GIT_AUTHOR_DATE = env.GIT_COMMITTER_DATE = o.date;
    return env;
  };

  const writeFiles = async (dir: string, files: Record<string, string | Uint8Array | null>) => {
    for (const [path, content] of Object.entries(files)) {
      const full = join(dir, path);
      if (content === null) await Deno.remove(full).catch(() => {});
      else {
        await Deno.mkdir(dirname(full), { recursive: true });
        if (typeof content === "string") await Deno.writeTextFile(full, content);
        else await Deno.writeFile(full, content);
      }
    }
  };

  const head = async (name: string, branch = "main") => {
    const out = await git(
      ["for-each-ref", "--format=%(objectname)", `refs/heads/${branch}`],
      join(root, `${name}.git`),
    );
    return out || undefined;
  };

  const commitAndPush: GitServer["commitAndPush"] = async (name, files, message, o = {}) => {
    const branch = o.branch ?? "main";
    const work = join(root, ".work", name);
    const env = commitEnv(o);
    await git(["fetch", "--quiet", "--prune", "origin"], work, env);
    const base = o.parent ?? ((await head(name, branch)) ? `origin/${branch}` : "origin/main");
    await git(["checkout", "--quiet", "-B", branch, base], work, env);
    await git(["reset", "--quiet", "--hard", base], work, env);
    await writeFiles(work, files);
    await git(["add", "--all"], work, env);
    await git(["commit", "--quiet", "--allow-empty", "-m", message], work, env);
    await git(
      ["push", "--quiet", ...(o.parent ? ["--force"] : []), "origin", `HEAD:refs/heads/${branch}`],
      work,
      env,
    );
    return await git(["rev-parse", "HEAD"], work);
  };

  return {
    baseUrl,
    root,
    url,
    get requests() {
      return requests;
    },
    async createRepo(name, files, o = {}) {
      const bare = join(root, `${name}.git`);
      await Deno.mkdir(dirname(bare), { recursive: true });
      await git(["init", "--quiet", "--bare", "--initial-branch=main", bare], root);
      const work = join(root, ".work", name);
      await Deno.mkdir(dirname(work), { recursive: true });
      await git(["init", "--quiet", "--initial-branch=main", work], root);
      await git(["remote", "add", "origin", url(name)], work);
      await writeFiles(work, files);
      const env = commitEnv(o);
      await git(["add", "--all"], work, env);
      await git(["commit", "--quiet", "--allow-empty", "-m", "initial commit"], work, env);
      await git(["push", "--quiet", "origin", "HEAD:refs/heads/main"], work, env);
      return await git(["rev-parse", "HEAD"], work);
    },
    commitAndPush,
    async deleteBranch(name, branch) {
      await git(["push", "--quiet", "origin", `:refs/heads/${branch}`], join(root, ".work", name), authEnv);
    },
    head,
    async stop() {
      await server.shutdown();
      await Promise.allSettled([...inflight]);
      if (ownRoot) await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}
