import assert from "node:assert/strict";
import { loadCrds } from "./crd.ts";
import { Validator } from "./validate.ts";

const WIDGET_CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: { kind: Widget, plural: widgets, singular: widget }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                port: { x-kubernetes-int-or-string: true }
                extra: { type: object, x-kubernetes-preserve-unknown-fields: true }
                template: { type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true }
                tags: { type: array, items: { type: string }, x-kubernetes-list-type: set }
                ports:
                  type: array
                  x-kubernetes-list-type: map
                  x-kubernetes-list-map-keys: [name]
                  items:
                    type: object
                    required: [name]
                    properties: { name: { type: string }, number: { type: integer } }
                note: { type: string, nullable: true }
                ratio: { type: number, minimum: 0, exclusiveMinimum: true }
                choice:
                  type: object
                  properties: { a: { type: string }, b: { type: string } }
                  oneOf: [{ required: [a] }, { required: [b] }]
                checked:
                  type: string
                  x-kubernetes-validations: [{ rule: "self.size() > 1", message: "not evaluated" }]
    - name: v0
      served: false
      storage: false
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Cluster
  names: { kind: Gadget, plural: gadgets }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`;

const validator = new Validator(loadCrds([{ path: "widgets.yaml", text: WIDGET_CRD }]), []);
const widget = (spec: Record<string, unknown>) => ({
  apiVersion: "example.com/v1",
  kind: "Widget",
  metadata: { name: "w" },
  spec,
});
const rules = (doc: unknown) => validator.validate(doc, 0).findings.map((f) => `${f.rule}@${f.path}`);

Deno.test("CRD schema: x-kubernetes-int-or-string accepts integers and strings only", () => {
  assert.deepEqual(rules(widget({ port: 80 })), []);
  assert.deepEqual(rules(widget({ port: "http" })), []);
  assert.deepEqual(rules(widget({ port: true })), ["schema.type@spec.port"]);
});

Deno.test("CRD schema: preserve-unknown-fields and embedded resources keep their free-form content", () => {
  assert.deepEqual(rules(widget({ extra: { anything: { goes: [1] } } })), []);
  assert.deepEqual(
    rules(widget({ template: { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, x: 1 } })),
    [],
  );
});

Deno.test("CRD schema: list-type set and map reject duplicates", () => {
  assert.deepEqual(rules(widget({ tags: ["a", "b"] })), []);
  assert.deepEqual(rules(widget({ tags: ["a", "a"] })), ["schema.unique-items@spec.tags"]);
  assert.deepEqual(rules(widget({ ports: [{ name: "a" }, { name: "b" }] })), []);
  assert.deepEqual(rules(widget({ ports: [{ name: "a" }, { name: "a", number: 2 }] })), [
    "schema.lzListMapKeys@spec.ports",
  ]);
});

Deno.test("CRD schema: nullable, OpenAPI exclusiveMinimum, oneOf branches that do not close the object", () => {
  assert.deepEqual(rules(widget({ note: null })), []);
  assert.deepEqual(rules(widget({ ratio: 0 })), ["schema.exclusive-minimum@spec.ratio"]);
  assert.deepEqual(rules(widget({ ratio: 0.5 })), []);
  assert.deepEqual(rules(widget({ choice: { a: "x" } })), []);
  assert.deepEqual(rules(widget({ choice: { a: "x", b: "y" } })), ["schema.oneOf@spec.choice"]);
  assert.deepEqual(rules(widget({ checked: "x" })), [], "CEL rules are not evaluated");
});

Deno.test("CRD schema: unserved versions, cluster scope and unknown root fields are findings", () => {
  assert.deepEqual(rules({ ...widget({}), apiVersion: "example.com/v0" }), ["schema.version@apiVersion"]);
  assert.deepEqual(rules({ ...widget({}), data: {} }), ["schema.unknown-field@data"]);
  const gadget = {
    apiVersion: "example.com/v1",
    kind: "Gadget",
    metadata: { name: "g", namespace: "x" },
    free: 1,
  };
  assert.deepEqual(rules(gadget), ["schema.namespace-scope@metadata.namespace"]);
  assert.deepEqual(rules({ ...gadget, metadata: { name: "g" } }), []);
});

Deno.test("CRD schema: status and metadata are not checked against the CRD schema", () => {
  assert.deepEqual(
    rules({ ...widget({}), status: { anything: 1 }, metadata: { name: "w", uid: "u", labels: { a: "b" } } }),
    [],
  );
});

Deno.test("loadCrds ignores non-CRD documents and reports broken or duplicate CRDs", () => {
  const idx = loadCrds([
    { path: "a.yaml", text: WIDGET_CRD + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n" },
    { path: "b.yaml", text: WIDGET_CRD.split("---")[0] },
    {
      path: "c.yaml",
      text: "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: {group: x}\n",
    },
    { path: "d.yaml", text: "a: [" },
  ]);
  assert.deepEqual([...idx.kinds.keys()].sort(), ["example.com/Gadget", "example.com/Widget"]);
  assert.equal(idx.problems.length, 3);
  assert.match(idx.problems.map((p) => p.message).join("\n"), /already defined by a\.yaml/);
});
