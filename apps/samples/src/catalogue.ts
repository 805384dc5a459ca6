import type { LogLevel } from "@durabletask/api";
import * as distributedTracing from "./distributed-tracing.js";
import * as eternal from "./eternal.js";
import type { ExternalEventsOptions } from "./external-events.js";
import * as externalEvents from "./external-events.js";
import * as libsqlHttpApi from "./libsql-http-api.js";
import * as parallel from "./parallel.js";
import * as retries from "./retries.js";
import * as sequence from "./sequence.js";
import * as subOrchestrations from "./sub-orchestrations.js";

/** Everything a sample may be given on the command line. */
export interface CliSampleOptions extends ExternalEventsOptions {
  readonly seed?: number | undefined;
  /** `--log-level`, for samples that build a logger of their own. */
  readonly logLevel?: LogLevel | undefined;
}

/** One runnable sample. */
export interface SampleEntry {
  readonly description: string;
  readonly run: (options: CliSampleOptions) => Promise<unknown>;
}

/** The samples by CLI name, in the order `--help` lists them. */
export const samples: ReadonlyMap<string, SampleEntry> = new Map<string, SampleEntry>([
  [
    "sequence",
    { description: "three chained activities (Tokyo, London, Seattle)", run: sequence.main },
  ],
  ["parallel", { description: "fan-out/fan-in over 10 devices", run: parallel.main }],
  [
    "external-events",
    {
      description: "wait for an 'approval' event (--interactive reads it from stdin)",
      run: externalEvents.main,
    },
  ],
  [
    "retries",
    { description: "a flaky activity with exponential back-off (--seed <n>)", run: retries.main },
  ],
  [
    "sub-orchestrations",
    {
      description: "a parent running 3 child orchestrations in parallel",
      run: subOrchestrations.main,
    },
  ],
  [
    "eternal",
    { description: "continue-as-new: a counter running 5 generations", run: eternal.main },
  ],
  [
    "distributed-tracing",
    {
      description: "one trace: activities, a 2 s timer, an HTTP call (console or OTLP export)",
      run: distributedTracing.main,
    },
  ],
  [
    "libsql-http-api",
    {
      description: "the libsql seed's HTTP API on a libsql task hub (DURABLETASK_DEMO_* env)",
      run: libsqlHttpApi.main,
    },
  ],
]);
