import assert from "node:assert/strict";
import { repoPathProblem } from "./repo_path.ts";

Deno.test("repoPathProblem() accepts clean relative directories", () => {
  for (const p of ["fabrics/dc1", "fabrics/dc1/", "dc1", "a/b.c/d-e_f", "..x/y..", ".github/fabric"]) {
    assert.equal(repoPathProblem(p), null, p);
  }
});

Deno.test("repoPathProblem() names what is wrong with an unclean path", () => {
  const cases: [string, RegExp][] = [
    ["../escaped", /"\.\." segment/],
    ["fabrics/../../x", /"\.\." segment/],
    ["fabrics/./dc1", /"\." segment/],
    ["/etc/fabric", /absolute/],
    ["fabrics//dc1", /empty segment/],
    ["fabrics/.git/dc1", /"\.git" segment/],
    ["fabrics/.GIT", /"\.git" segment/],
    ["", /repository root/],
    [".", /repository root/],
    ["/", /repository root|absolute/],
    ["fabrics\\dc1", /backslash/],
    ["fab\nrics", /control character/],
    [" fabrics/dc1", /spaces/],
  ];
  for (const [p, re] of cases) {
    const problem = repoPathProblem(p);
    assert.ok(problem, `${JSON.stringify(p)} must be refused`);
    assert.match(problem, re, p);
    assert.match(problem, /relative directory inside the repository/);
  }
});
