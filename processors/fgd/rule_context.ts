/**
 * The fabric context semantic rules are checked in: the objects of one fabric directory (the desired state a
 * new object joins), answering lookups by name, lists by kind and memoized indexes. Ingestion, Portal edits
 * and the tests build it the same way.
 */
import { type KubeObject, splitApiVersion } from "./object.ts";
import type { RuleContext } from "./rule_pack.ts";

/**
 * A {@link RuleContext} over `objects`. A later object with the same group, kind and name replaces an
 * earlier one (a new version of an object replaces the one already in the directory).
 */
export function directoryContext(objects: Iterable<KubeObject>): RuleContext {
  const byName = new Map<string, KubeObject>();
  for (const o of objects) {
    byName.set(`${splitApiVersion(o.apiVersion).group}/${o.kind}/${o.metadata.name}`, o);
  }
  let byKind: Map<string, KubeObject[]> | undefined;
  const memos = new Map<string, unknown>();
  return {
    lookup: (group, kind, name) => byName.get(`${group}/${kind}/${name}`),
    list(group, kind) {
      if (!byKind) {
        byKind = new Map();
        for (const o of byName.values()) {
          const k = `${splitApiVersion(o.apiVersion).group}/${o.kind}`;
          const l = byKind.get(k);
          if (l) l.push(o);
          else byKind.set(k, [o]);
        }
      }
      return byKind.get(`${group}/${kind}`) ?? [];
    },
    memo<T>(key: string, build: () => T): T {
      if (!memos.has(key)) memos.set(key, build());
      return memos.get(key) as T;
    },
  };
}
