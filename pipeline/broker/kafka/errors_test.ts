import assert from "node:assert/strict";
import { LzError } from "../../errors.ts";
import kafkajs from "kafkajs";
import {
  backoffMs,
  causeChain,
  isMetadataNotLoaded,
  isUnreachable,
  kafkaErrorType,
  socketCode,
  toLzError,
  unreachableMessage,
  withDeadline,
} from "./errors.ts";

/** The shape kafkajs throws after its retries: NumberOfRetriesExceeded → ConnectionError → socket error. */
function kafkajsRefused(address: string) {
  const socket = Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: "ECONNREFUSED" });
  const conn = Object.assign(new Error(`Connection error: connect ECONNREFUSED ${address}`), {
    name: "KafkaJSConnectionError",
    retriable: true,
    code: "ECONNREFUSED",
    cause: socket,
  });
  return Object.assign(new Error(conn.message), {
    name: "KafkaJSNumberOfRetriesExceeded",
    retriable: false,
    cause: conn,
  });
}

Deno.test("toLzError() turns a refused connection into BROKER_UNAVAILABLE naming the address", () => {
  const e = toLzError(kafkajsRefused("127.0.0.1:9092"), "127.0.0.1:9092", "connect");
  assert.equal(e.code, "BROKER_UNAVAILABLE");
  assert.equal(e.retriable, true);
  assert.equal(
    e.message,
    "Cannot reach Kafka at 127.0.0.1:9092 (ECONNREFUSED); is the broker running? Set broker.brokers in lzsync.yaml",
  );
  assert.equal(e.detail.action, "connect");
});

Deno.test("unreachableMessage() explains a name that does not resolve", () => {
  assert.match(
    unreachableMessage("kafka:9092", "ENOTFOUND"),
    /\(ENOTFOUND: the host name does not resolve\)/,
  );
  assert.match(unreachableMessage("kafka:9092", undefined), /\(no answer\)/);
});

Deno.test("toLzError() maps Kafka protocol errors by type and keeps their retriable flag", () => {
  const unknown = Object.assign(new Error("This server does not host this topic-partition"), {
    name: "KafkaJSProtocolError",
    type: "UNKNOWN_TOPIC_OR_PARTITION",
    retriable: true,
  });
  assert.equal(toLzError(unknown, "b:1", "send").code, "UNKNOWN_TOPIC");
  const tooLarge = Object.assign(new Error("The request included a message larger than the max"), {
    name: "KafkaJSProtocolError",
    type: "MESSAGE_TOO_LARGE",
    retriable: false,
  });
  const wrapped = Object.assign(new Error("wrapped"), {
    name: "KafkaJSNonRetriableError",
    retriable: false,
    cause: tooLarge,
  });
  const e = toLzError(wrapped, "b:1", "send 1 record(s) to t");
  assert.equal(e.code, "KAFKA_MESSAGE_TOO_LARGE");
  assert.equal(e.retriable, false);
  assert.match(e.message, /^send 1 record\(s\) to t failed on Kafka at b:1: The request included/);
  const leader = Object.assign(new Error("not leader"), {
    type: "NOT_LEADER_FOR_PARTITION",
    retriable: true,
  });
  const exceeded = Object.assign(new Error("x"), {
    name: "KafkaJSNumberOfRetriesExceeded",
    retriable: false,
    cause: leader,
  });
  assert.equal(toLzError(exceeded, "b:1", "send").retriable, true, "the innermost error decides");
});

Deno.test("toLzError() passes LzErrors through and never marks a plain Error retriable", () => {
  const lz = new LzError("X", "x");
  assert.equal(toLzError(lz, "b:1", "a"), lz);
  const plain = toLzError(new Error("boom"), "b:1", "a");
  assert.equal(plain.code, "KAFKA_ERROR");
  assert.equal(plain.retriable, false);
});

Deno.test("isUnreachable() recognises kafkajs's 'Broker not connected' and request timeouts", () => {
  assert.equal(isUnreachable(new Error("Broker not connected")), true);
  assert.equal(
    isUnreachable(
      Object.assign(new Error("Request Metadata timed out"), { name: "KafkaJSRequestTimeoutError" }),
    ),
    true,
  );
  assert.equal(
    isUnreachable(Object.assign(new Error("Connection timeout"), { name: "KafkaJSConnectionError" })),
    true,
  );
  assert.equal(socketCode(new Error("Connection timeout")), "ETIMEDOUT");
  assert.equal(isUnreachable(new Error("The group is rebalancing")), false);
});

Deno.test("kafkaErrorType() finds types in aggregate and delete-groups errors", () => {
  assert.equal(kafkaErrorType({ errors: [{ type: "TOPIC_ALREADY_EXISTS" }] }), "TOPIC_ALREADY_EXISTS");
  assert.equal(kafkaErrorType({ groups: [{ error: { type: "GROUP_ID_NOT_FOUND" } }] }), "GROUP_ID_NOT_FOUND");
  assert.equal(kafkaErrorType(new Error("none")), undefined);
});

Deno.test("causeChain() stops on cycles", () => {
  const a: { cause?: unknown } = {};
  const b = { cause: a };
  a.cause = b;
  assert.equal(causeChain(a).length, 2);
});

Deno.test("withDeadline() rejects late promises with the given error and clears its timer", async () => {
  await assert.rejects(
    withDeadline(new Promise(() => {}), 20, () => new LzError("T", "late")),
    (e: LzError) => e.code === "T",
  );
  assert.equal(await withDeadline(Promise.resolve(7), 1_000, () => new Error("never")), 7);
});

Deno.test("backoffMs() doubles from the initial value up to the cap, with ±20 % jitter", () => {
  for (let i = 0; i < 50; i++) {
    const first = backoffMs(0, 250, 5_000);
    assert.ok(first >= 200 && first <= 300, `${first}`);
    const later = backoffMs(10, 250, 5_000);
    assert.ok(later >= 4_000 && later <= 6_000, `${later}`);
  }
});

Deno.test("kafkajs's 'topic metadata not loaded' is recognized (the admin and the reader retry it), also as a cause", () => {
  const { KafkaJSTopicMetadataNotLoaded } = kafkajs as unknown as {
    KafkaJSTopicMetadataNotLoaded: new (msg: string, o: { topic: string }) => Error;
  };
  const err = new KafkaJSTopicMetadataNotLoaded("Topic metadata not loaded", {
    topic: "lz.assets.snapshot.v1",
  });
  assert.equal(
    err.name,
    "KafkaJSTopicMetadataNotLoaded",
    "kafkajs still names it so (a kafkajs upgrade changed it)",
  );
  assert.ok(isMetadataNotLoaded(err));
  assert.ok(isMetadataNotLoaded(new Error("read offsets", { cause: err })));
  assert.ok(!isMetadataNotLoaded(new Error("Topic metadata not loaded")));
  assert.ok(!isMetadataNotLoaded(kafkajsRefused("127.0.0.1:9")));
});
