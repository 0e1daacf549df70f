/**
 * The shape of `lzsync.yaml`, modelled on the Landing Zone documents' `sync-config.yaml`. One declaration:
 * the TypeScript type, the validator and the defaults all come from here. Every default lets a first run
 * work with nothing configured. Secrets are never values here: fields ending in `_env` name an environment
 * variable that holds the secret.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";

/** A duration such as `300ms`, `30s`, `5m`, `6h`, `1d` (parsed by `pipeline/config.ts`). */
const Duration = (def: string, description: string) =>
  Type.String({
    pattern: "^[0-9]+(ms|s|m|h|d)$",
    default: def,
    description,
    examples: ["300ms", "30s", "5m", "6h", "1d"],
  });

const obj = <T extends Record<string, TSchema>>(props: T, description?: string) =>
  Type.Object(props, { additionalProperties: false, default: {}, description });

export const BrokerConfig = obj({
  kind: Type.Union([Type.Literal("embedded"), Type.Literal("kafka")], {
    default: "embedded",
    description: "embedded (in-process log under data_dir) or kafka (Apache Kafka or Redpanda via kafkajs)",
  }),
  brokers: Type.Array(
    Type.String({
      pattern: "^[^:\\s]+:[0-9]+$",
      description: "(host:port)",
      examples: ["127.0.0.1:9092", "redpanda-0:9092"],
    }),
    {
      default: ["127.0.0.1:9092"],
      description: "host:port bootstrap addresses (kind: kafka)",
    },
  ),
  client_id: Type.String({ default: "lzsync" }),
  partitions: Type.Integer({
    minimum: 1,
    maximum: 1024,
    default: 1,
    description:
      "partitions of the key-partitioned topics lzsync creates (asset snapshots, infra events, project ids, asset state, governance, evaluations, violations): the tasks the assets and policy processors can spread over members of their group; other topics keep their declared count",
  }),
  fetch_max_wait: Duration(
    "100ms",
    "kind: kafka: longest a fetch waits for new records (a fetch returns as soon as one arrives; lower costs idle requests, higher adds nothing to latency under load)",
  ),
}, "the Kafka-compatible broker");

const Scope = Type.Union([
  Type.Literal("read"),
  Type.Literal("trigger"),
  Type.Literal("write"),
  Type.Literal("admin"),
]);

const IpRange = Type.String({
  pattern: "^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$",
  description: "(an IPv4/IPv6 address or CIDR range)",
  examples: ["10.0.0.0/8", "140.82.112.0/20", "2a0a:a440::/29"],
});
const IpRanges = (description: string) => Type.Array(IpRange, { minItems: 1, description });

/** One token bucket: `rate_per_s` requests per second sustained, `burst` at once; `rate_per_s: 0` turns it off. */
const Bucket = (rate: number, burst: number, per: string) =>
  obj({
    rate_per_s: Type.Number({
      minimum: 0,
      default: rate,
      description: "sustained requests per second; 0: no limit",
    }),
    burst: Type.Integer({ minimum: 1, default: burst, description: "requests allowed at once" }),
  }, `per ${per}: ${rate}/s, burst ${burst} by default`);

// Default [rate_per_s, burst] per client IP, then per token.
const WEBHOOK: [number, number] = [10, 100];
const TRIGGER: [[number, number], [number, number]] = [[1, 20], [2, 40]];
const WRITES: [[number, number], [number, number]] = [[20, 100], [50, 200]];
const READS: [[number, number], [number, number]] = [[100, 500], [500, 2000]];
const CONNECTS: [[number, number], [number, number]] = [[5, 50], [50, 500]];

/** The limits of one route family: per client IP (IPv6: per /64) and per token. */
const FamilyLimits = (description: string, ip: [number, number], token?: [number, number]) =>
  obj({
    ip: Bucket(ip[0], ip[1], "client IP"),
    ...(token ? { token: Bucket(token[0], token[1], "token (every address using it together)") } : {}),
  }, description);

export const GatewayConfig = obj({
  enabled: Type.Boolean({ default: true }),
  host: Type.String({ default: "127.0.0.1", description: "bind address (LZSYNC_HOST overrides)" }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: "LZSYNC_PORT overrides" }),
  public_url: Type.Optional(Type.String({
    pattern: "^https?://[^/?#\\s@]+(/[^?#\\s]*)?$",
    description: "external base URL for status_url/websocket_url; its host is one the gateway answers to",
    examples: ["https://portal-sync.example.com"],
  })),
  allowed_hosts: Type.Array(
    Type.String({
      pattern: "^(\\*|\\.?[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?)$",
      examples: ["sync.internal", ".corp.example"],
    }),
    {
      default: [],
      description:
        "Host names the gateway answers to besides IP addresses, localhost, *.localhost, the bind host and public_url's host (DNS-rebinding guard); `.example.com` also matches its subdomains; `*` turns the check off",
    },
  ),
  allowed_origins: Type.Array(
    Type.String({ pattern: "^https?://[^/?#\\s*@]+$", examples: ["https://portal.example.com"] }),
    {
      default: [],
      description:
        "browser origins (scheme://host[:port], no `*`) that may call the gateway from another origin: CORS, WebSocket, SSE and state-changing requests; the gateway's own origin is always allowed",
    },
  ),
  tokens: Type.Array(
    Type.Object({
      name: Type.String({ minLength: 1 }),
      token_env: Type.String({
        pattern: "^[A-Z_][A-Z0-9_]*$",
        description: "env var holding the token",
        examples: ["LZSYNC_PORTAL_TOKEN"],
      }),
      scopes: Type.Array(Scope, { minItems: 1 }),
      fabrics: Type.Optional(Type.Array(
        Type.String({ pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: 63 }),
        {
          minItems: 1,
          description:
            "restricts the token to these fabric ids: it writes only them (403 otherwise) and reads only their records on the lz.fgd.* topics and the fabrics routes",
          examples: [["dc1"]],
        },
      )),
    }, { additionalProperties: false }),
    { default: [], description: "bearer tokens; LZSYNC_TOKEN is always an admin token when set" },
  ),
  anonymous_reads: Type.Union([Type.Literal("loopback"), Type.Literal("always"), Type.Literal("never")], {
    default: "loopback",
    description:
      "reads without a token: loopback = this machine's own clients (bound to loopback, no non-loopback public_url, no Forwarded/X-Forwarded-For), tokens or not; always = trusted network (compose); never = every read needs a token",
  }),
  max_body_bytes: Type.Integer({ minimum: 1024, default: 25 * 1024 * 1024 }),
  max_object_bytes: Type.Integer({
    minimum: 1024,
    default: 1024 * 1024,
    description: "largest body of an object write or a fabric registration (YAML/JSON); beyond it 413",
  }),
  max_yaml_nodes: Type.Integer({
    minimum: 1,
    default: 20_000,
    description:
      "most YAML/JSON nodes (scalars, aliases, collections) in an object or fabric body; beyond it 413",
  }),
  max_yaml_depth: Type.Integer({
    minimum: 1,
    default: 64,
    description: "deepest nesting of collections in an object or fabric body; beyond it 413",
  }),
  max_yaml_aliases: Type.Integer({
    minimum: 0,
    default: 100,
    description: "most YAML aliases in an object or fabric body, and most alias resolutions; beyond it 413",
  }),
  parse_workers: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 1,
    description:
      "worker threads parsing object/fabric bodies off the event loop (one leaves the other core of a small machine to the gateway)",
  }),
  parse_queue: Type.Integer({
    minimum: 0,
    default: 16,
    description: "bodies waiting for a parser worker; beyond it 503 with Retry-After",
  }),
  parse_timeout: Duration("5s", "a body still parsing after this long stops its worker and answers 413"),
  client_buffer_bytes: Type.Integer({
    minimum: 1024,
    default: 1024 * 1024,
    description: "per WebSocket/SSE client send budget",
  }),
  slow_client_policy: Type.Union([Type.Literal("drop-and-resync"), Type.Literal("close")], {
    default: "drop-and-resync",
  }),
  trusted_proxies: Type.Array(IpRange, {
    default: [],
    description:
      "reverse proxies (IPs/CIDRs) whose X-Forwarded-For is believed: only when the direct peer is one of them is the client the rightmost X-Forwarded-For hop that is not; otherwise X-Forwarded-For is ignored",
  }),
  allow_from: obj(
    {
      webhook: Type.Optional(
        IpRanges("webhook deliveries (GitHub publishes its ranges: api.github.com/meta `hooks`)"),
      ),
      trigger: Type.Optional(IpRanges("manual sync triggers")),
      writes: Type.Optional(IpRanges("object writes, fabric registration and other state-changing requests")),
      reads: Type.Optional(IpRanges("REST reads, /metrics and the status page")),
      connects: Type.Optional(IpRanges("WebSocket and SSE connects")),
    },
    "per route family, the client IPs/CIDRs allowed (IPv4 and IPv6); a family not listed is open; others get 403",
  ),
  rate_limits: obj(
    {
      webhook: FamilyLimits(
        "webhook deliveries (no token; GitHub sends bursts from a few addresses)",
        WEBHOOK,
      ),
      trigger: FamilyLimits(
        "manual sync triggers (coalesced: one run in flight plus one queued)",
        ...TRIGGER,
      ),
      writes: FamilyLimits("object writes, fabric registration, other state-changing requests", ...WRITES),
      reads: FamilyLimits("REST reads, /metrics and the status page (a page load is ~10 requests)", ...READS),
      connects: FamilyLimits("WebSocket and SSE connects (an open connection counts once)", ...CONNECTS),
      max_clients: Type.Integer({
        minimum: 100,
        default: 10_000,
        description:
          "buckets kept per family and per kind (client IP, token); beyond it the least recently used is dropped, so a flood of distinct addresses cannot grow memory",
      }),
    },
    "token-bucket limits per client IP (IPv6: per /64) and, separately, per token, for each route family; 429 with Retry-After beyond them; /healthz and /readyz are never limited",
  ),
}, "the Hono REST/WebSocket gateway");

export const LandingZoneConfig = obj({
  repo: Type.Optional(Type.String({
    description: "git URL (https/http smart-HTTP) or local path; default: a sample repo created in data_dir",
  })),
  branch: Type.String({ default: "main" }),
  token_env: Type.String({
    default: "GITHUB_TOKEN",
    description: "env var with an HTTPS token for fetch/push",
  }),
  github: Type.Optional(Type.Object({
    owner: Type.String(),
    repo: Type.String(),
    api_url: Type.String({ default: "https://api.github.com" }),
    commit_status: Type.Boolean({ default: true }),
    commit_status_max_age: Duration(
      "1h",
      "a synced commit older than this when the status notifier reads it (first start, replay) gets no status " +
        "if a later sync of the repo supersedes it; the latest sync always gets its status",
    ),
  }, { additionalProperties: false })),
}, "the Landing Zone git repository");

export const LayersConfig = obj({
  webhook: obj({
    enabled: Type.Boolean({ default: true }),
    secret_env: Type.String({ default: "GITHUB_WEBHOOK_SECRET" }),
    previous_secret_env: Type.String({
      default: "GITHUB_WEBHOOK_SECRET_PREVIOUS",
      description: "accepted during rotation",
    }),
    produce_timeout: Duration(
      "8s",
      "a delivery not acknowledged by the broker this long after receipt answers 503 (GitHub allows 10 s)",
    ),
    max_inflight_bodies: Type.Integer({
      minimum: 1,
      default: 8,
      description: "webhook bodies read at once (each up to gateway.max_body_bytes); more answer 503",
    }),
  }),
  git: obj({
    enabled: Type.Boolean({ default: true }),
    interval: Duration("6h", "safety-net poll interval"),
    paths: Type.Array(Type.String(), {
      default: ["docs/**", "pmo.yaml", "ENFORCEMENT_GATES.md", "RUNBOOKS.md", "terraform/**/*.tf"],
      description: "tracked path globs (fabric GitOps directories are added automatically)",
    }),
    inline_max_bytes: Type.Integer({ minimum: 0, default: 256 * 1024 }),
  }),
  api: obj({
    enabled: Type.Boolean({ default: true }),
    interval: Duration("5m", "Cloud Asset Inventory poll interval"),
    parent: Type.Optional(Type.String({ description: "projects/P, folders/F or organizations/O" })),
    asset_types: Type.Array(Type.String(), {
      default: [
        "cloudresourcemanager.googleapis.com/Project",
        "compute.googleapis.com/Network",
        "compute.googleapis.com/Subnetwork",
        "compute.googleapis.com/Firewall",
        "compute.googleapis.com/Instance",
        "compute.googleapis.com/Project",
        "container.googleapis.com/Cluster",
        "sqladmin.googleapis.com/Instance",
        "storage.googleapis.com/Bucket",
      ],
    }),
    api_endpoint: Type.Optional(Type.String({ description: "override for tests (REST base URL)" })),
    export_file: Type.Optional(
      Type.String({
        description:
          "Cloud Asset export: NDJSON (`gcloud asset export`) or a JSON array (air-gapped / sample)",
      }),
    ),
    max_asset_bytes: Type.Integer({
      minimum: 1024,
      default: 4 * 1024 * 1024,
      description: "largest accepted asset in an export file or feed message; bigger ones go to lz.dlq.v1",
    }),
  }),
  pubsub: obj({
    enabled: Type.Boolean({ default: false }),
    project: Type.String({ default: "lzsync-local" }),
    topic: Type.String({ default: "lz-infrastructure-events" }),
    subscription: Type.String({ default: "portal-lz-events" }),
    max_messages: Type.Integer({ minimum: 1, default: 500, description: "flow control" }),
    ack_max_delay: Duration(
      "10ms",
      "longest an ack waits to be batched with others (acks are sent only after the event is on the broker)",
    ),
  }),
  bigquery: obj({
    enabled: Type.Boolean({
      default: false,
      description: "copy the analytics tables from DuckDB to BigQuery (needs analytics.duckdb.enabled)",
    }),
    project: Type.Optional(Type.String({ description: "required when enabled" })),
    dataset: Type.String({ default: "lz_portal" }),
    location: Type.Optional(Type.String({ description: "dataset location when lzsync creates it, e.g. EU" })),
    interval: Duration("5m", "how often committed rows are loaded (load jobs, then MERGE)"),
    endpoint: Type.Optional(Type.String({
      description: "http://host:port of a BigQuery emulator (then no credentials are used)",
    })),
  }),
}, "the five sync layers");

export const AlertsConfig = obj({
  success_rate_min: Type.Number({ minimum: 0, maximum: 1, default: 0.95 }),
  latency_max: Duration("300s", "SyncLatency threshold"),
  freshness_max: Duration("6h", "DataFreshness threshold"),
  consecutive_failures: Type.Integer({ minimum: 1, default: 3 }),
  window: Duration("1h", "success-rate window"),
  slack_webhook_env: Type.Optional(
    Type.String({ description: "env var holding a Slack-compatible webhook URL" }),
  ),
  notify_max_age: Duration(
    "15m",
    "an alert transition older than this when the notifier first reads it (first start, replay) is not posted",
  ),
}, "sync alerts");

export const AnalyticsConfig = obj({
  duckdb: obj({
    enabled: Type.Boolean({ default: true, description: "local analytics tables in a DuckDB file" }),
    path: Type.Optional(Type.String({ description: "database file; default <data_dir>/analytics.duckdb" })),
  }),
  daily_interval: Duration("1m", "how often daily_metrics and daily compliance are recomputed"),
  parquet_interval: Duration("15m", "how often every table is exported to <data_dir>/analytics/*.parquet"),
  billing: obj({
    enabled: Type.Boolean({
      default: true,
      description: "read a Cloud Billing export file into lz.billing.costs.v1",
    }),
    export_file: Type.Optional(Type.String({
      description: "standard billing export rows as NDJSON; default: the sample Landing Zone's",
    })),
    interval: Duration("1h", "how often the file is read again (an unchanged file is skipped)"),
  }),
  cost_spike: obj({
    ratio: Type.Number({ minimum: 1, default: 1.5, description: "alert above ratio x the trailing average" }),
    trailing_days: Type.Integer({ minimum: 1, maximum: 90, default: 7 }),
  }),
}, "layer 5: DuckDB analytics, Parquet export, costs");

export const FabricConfig = Type.Object({
  id: Type.String({
    pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
    maxLength: 63,
    examples: ["dc1", "fabric-eu-1"],
  }),
  repo: Type.Optional(Type.String({ description: "git URL or path; default: the Landing Zone repo" })),
  branch: Type.String({ default: "main" }),
  path: Type.String({ description: "GitOps directory inside the repo, e.g. fabrics/dc1" }),
  credential: Type.Optional(Type.String({
    minLength: 1,
    description: "name of a token in `credentials` (the only way to name one over the API)",
  })),
  credential_env: Type.Optional(Type.String({
    description: "env var with a token for push (config file only; the API takes `credential`)",
  })),
  crd_dirs: Type.Array(Type.String(), { default: [], description: "directories with CRD YAML files" }),
  rule_packs: Type.Array(Type.String(), { default: ["hedgehog"] }),
  kubernetes: Type.Optional(Type.Object({
    api_url: Type.String(),
    credential: Type.Optional(Type.String({ minLength: 1, description: "name of a token in `credentials`" })),
    token_env: Type.Optional(Type.String({ description: "config file only; the API takes `credential`" })),
  }, { additionalProperties: false })),
}, { additionalProperties: false });

export const CredentialConfig = Type.Object({
  token_env: Type.String({
    pattern: "^[A-Z_][A-Z0-9_]*$",
    description: "env var holding the token",
    examples: ["FABRIC_GIT_TOKEN"],
  }),
  hosts: Type.Optional(
    Type.Array(Type.String({ minLength: 1, examples: ["github.com", "git.internal:8443"] }), {
      description: "the only hosts (host or host:port) the token is sent to; default: any",
    }),
  ),
}, { additionalProperties: false });

const PortalPath = Type.Object({
  from: Type.String({
    minLength: 1,
    description: "glob over tracked Landing Zone paths (layers.git.paths)",
    examples: ["docs/**", "pmo.yaml"],
  }),
  to: Type.String({
    minLength: 1,
    description: "target: a directory ending in / (the glob's fixed prefix is replaced) or a file path",
    examples: ["docs/lz-reference/", "config/lz-pmo.yaml"],
  }),
}, { additionalProperties: false });

export const PortalRepoConfig = Type.Object({
  enabled: Type.Boolean({ default: true }),
  repo: Type.String({
    minLength: 1,
    description: "the Portal's repository: git URL (https/http smart-HTTP) or local path",
    examples: ["https://github.com/acme/portal.git"],
  }),
  branch: Type.String({ default: "main", description: "the Portal's target branch" }),
  token_env: Type.String({
    default: "PORTAL_REPO_TOKEN",
    description: "env var with a token that may push (and open pull requests)",
  }),
  mode: Type.Union([Type.Literal("direct"), Type.Literal("pull_request")], {
    default: "direct",
    description: "direct: commit to branch; pull_request: one long-lived branch and PR (GitHub)",
  }),
  auto_merge: Type.Boolean({
    default: true,
    description: "pull_request mode: enable GitHub auto-merge on the PR",
  }),
  merge_method: Type.Union([Type.Literal("squash"), Type.Literal("merge"), Type.Literal("rebase")], {
    default: "squash",
  }),
  pr_branch: Type.String({ default: "lzsync/sync", description: "the pull request's head branch" }),
  github: Type.Optional(Type.Object({
    owner: Type.String({ minLength: 1 }),
    repo: Type.String({ minLength: 1 }),
    api_url: Type.String({ default: "https://api.github.com" }),
  }, { additionalProperties: false, description: "default: owner/repo from a github.com repo URL" })),
  paths: Type.Array(PortalPath, {
    default: [
      { from: "docs/**", to: "docs/lz-reference/" },
      { from: "pmo.yaml", to: "config/lz-pmo.yaml" },
    ],
  }),
  metadata_path: Type.String({ default: "config/lz-config/sync-metadata.json" }),
  author: obj({
    name: Type.String({ default: "lzsync" }),
    email: Type.String({ default: "lzsync@users.noreply.github.com" }),
  }),
}, { additionalProperties: false, description: "the Portal's own repository (sink of the synced files)" });

export const ProcessorsConfig = obj({
  enabled: Type.Array(Type.String({ minLength: 1 }), {
    default: ["all"],
    description: "processors this process runs (scale out by running more processes); `all` runs every one",
  }),
  retries: Type.Integer({
    minimum: 0,
    maximum: 20,
    default: 3,
    description: "attempts before a record goes to the DLQ",
  }),
  topics: Type.Record(
    Type.String(),
    Type.Object({ partitions: Type.Integer({ minimum: 1, maximum: 1024 }) }, { additionalProperties: false }),
    { default: {}, description: "per-topic overrides of broker.partitions, by declared topic name" },
  ),
}, "which processors run here");

export const Config = Type.Object({
  data_dir: Type.String({ default: ".lzsync", description: "LZSYNC_DATA_DIR overrides" }),
  log_level: Type.Union([
    Type.Literal("debug"),
    Type.Literal("info"),
    Type.Literal("warn"),
    Type.Literal("error"),
  ], { default: "info" }),
  broker: BrokerConfig,
  gateway: GatewayConfig,
  landing_zone: LandingZoneConfig,
  layers: LayersConfig,
  alerts: AlertsConfig,
  processors: ProcessorsConfig,
  analytics: AnalyticsConfig,
  fabrics: Type.Array(FabricConfig, { default: [] }),
  credentials: Type.Record(Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]*$" }), CredentialConfig, {
    default: {},
    description:
      "tokens that may be named (by key) over the API, e.g. a fabric's `credential`; an API caller can never name an environment variable",
  }),
  portal_repo: Type.Optional(PortalRepoConfig),
}, { additionalProperties: false });

/** The validated, defaulted configuration (frozen at runtime). */
export type Config = Static<typeof Config>;
export type FabricConfig = Static<typeof FabricConfig>;
export type CredentialConfig = Static<typeof CredentialConfig>;
export type PortalRepoConfig = Static<typeof PortalRepoConfig>;
