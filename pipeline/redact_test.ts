import assert from "node:assert/strict";
import { hasUrlCredentials, redactStrings, stripUrlCredentials } from "./redact.ts";

Deno.test("stripUrlCredentials() removes user:password@ from every URL in a text, nothing else", () => {
  assert.equal(stripUrlCredentials("http://alice:pw@git.example/x.git"), "http://git.example/x.git");
  assert.equal(stripUrlCredentials("https://ghp_abc@github.com/a/b"), "https://github.com/a/b");
  assert.equal(
    stripUrlCredentials("cannot fetch http://a:p@ss@h:8080/r (401); see https://b:c@k/api"),
    "cannot fetch http://h:8080/r (401); see https://k/api",
  );
  assert.equal(stripUrlCredentials('{"repo":"http://u:p@h/x"}'), '{"repo":"http://h/x"}');
  for (const same of ["mail alice@example.com", "http://h/path@v1", "git@github.com:a/b.git", "no url"]) {
    assert.equal(stripUrlCredentials(same), same);
  }
  assert.equal(hasUrlCredentials("http://u:p@h/x"), true);
  assert.equal(hasUrlCredentials("http://h/x"), false);
});

Deno.test("redactStrings() copies only what changes", () => {
  const clean = { a: "http://h/x", b: [1, "y"], c: { d: null } };
  assert.equal(redactStrings(clean), clean);
  const dirty = {
    id: "dc9",
    repo: "http://alice:pw@h/x.git",
    kubernetes: { api_url: "https://t@k:6443" },
    n: 1,
  };
  const out = redactStrings(dirty);
  assert.deepEqual(out, {
    id: "dc9",
    repo: "http://h/x.git",
    kubernetes: { api_url: "https://k:6443" },
    n: 1,
  });
  assert.equal(dirty.repo, "http://alice:pw@h/x.git"); // the input is untouched
});
